"""Where a server's time goes while it is measured: py-spy samples its processes and the
summary names the functions of ours (and the library calls they wait in) that hold the
largest share of the samples. ``python -m bench ingest --profile`` turns it on for the
product's server in each ingest turn."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.common import Figure

OURS = ("conversations/", "channels_whatsapp/", "routing/", "presence/", "cxgear/")
_FRAME = re.compile(r"^(?P<name>.+?) \((?P<file>[^:()]+):\d+\)$")


class Sampler:
    """py-spy recording one process and its children until ``stop``."""

    def __init__(self, pid: int, output: Path) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.output = output
        self.process = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--idle",
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(output),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for part in stack.split(";"):
        found = _FRAME.match(part.strip())
        if found:
            frames.append((found["name"], found["file"]))
    return frames


def summarise(path: Path, label: str, top: int = 12) -> list[Figure]:
    """The functions of ours with the most samples on their stack (inclusive), and the
    innermost frames where the samples were taken (self), as shares of the samples taken
    while a request was in Django (waiting on PostgreSQL or Redis included)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return [Figure(f"profile [{label}]", "no samples (py-spy could not attach)")]
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        # Only samples taken while a request is being handled: idle workers waiting for
        # a connection are not where a request's time goes.
        if not any(file.startswith("django/") or "/django/" in file for _, file in frames):
            continue
        total += count
        leaf_name, leaf_file = frames[-1]
        leaves[f"{leaf_name} ({Path(leaf_file).name})"] += count
        seen = set()
        for name, file in frames:
            if file.startswith(OURS):
                key = f"{name} ({file})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += count
    if not total:
        return [Figure(f"profile [{label}]", "no samples")]
    figures = [Figure(f"profile [{label}]", f"{total} samples in requests", "inclusive, our code")]
    figures += [
        Figure(f"  {name}", f"{count / total:6.1%}") for name, count in inclusive.most_common(top)
    ]
    figures.append(Figure(f"profile [{label}] innermost frames", "", "self time"))
    figures += [
        Figure(f"  {name}", f"{count / total:6.1%}") for name, count in leaves.most_common(top)
    ]
    return figures
