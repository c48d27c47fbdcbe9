"""Browser sessions that know whose they are."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class Session(AbstractBaseSession):
    """Django's database session with the signed-in user beside it, so that every
    session of one person can be ended at once (deactivation, a new password): the stock
    table keeps the user only inside the encoded data."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )

    @classmethod
    def get_session_store_class(cls) -> type:
        # The engine settings name (``accounts.sessions``), found as Django's middleware
        # finds it: that module imports this one, which does not import it back.
        store: type = import_module(settings.SESSION_ENGINE).SessionStore
        return store
