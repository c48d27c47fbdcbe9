"""The session engine (``SESSION_ENGINE = "accounts.sessions"``): Django's database
store, writing the signed-in user's id on the row."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

from accounts.models import Session


class SessionStore(DatabaseStore):
    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        session = cast(Session, super().create_model_instance(data))
        try:
            session.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            session.user_id = None
        return session


def sessions_end(*, user_id: int) -> int:
    """Delete every session of the user; a request of theirs still in flight cannot save
    its session back (Django's store only updates a row that exists). Returns how many."""
    deleted, _ = Session.objects.filter(user_id=user_id).delete()
    return deleted
