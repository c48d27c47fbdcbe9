"""Debian's Chromium, launched the one way the browser tests and ``make screenshot`` use.

Playwright cannot download a browser build of its own on our machines, so it drives the
system's. The networking flags keep Chromium from calling out to update and sync
services on start: on a machine without a route out, those calls are refused by the
dozen and slow every launch."""

from __future__ import annotations

from typing import Any

EXECUTABLE = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from a started Playwright."""
    return playwright.chromium.launch(executable_path=EXECUTABLE, args=ARGS)
