"""The activity log: what happens to chats (arriving, assigned, closed), the lines a
person watching the console follows, at INFO. Everything else logged is for diagnosis;
``cxgear.logging`` formats both."""

from __future__ import annotations

import logging

ACTIVITY = "cxgear.activity"
activity = logging.getLogger(ACTIVITY)


def activity_on_commit(message: str, *args: object, **extra: object) -> None:
    """An activity line, written once the caller's transaction commits: a change rolled
    back never happened. ``extra`` goes into the JSON line."""
    if activity.isEnabledFor(logging.INFO):
        # Imported here: settings import this module (through ``cxgear.logging``) before
        # Django is set up.
        from django.db import transaction

        transaction.on_commit(lambda: activity.info(message, *args, extra=extra))
