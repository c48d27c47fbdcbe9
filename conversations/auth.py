"""Roles give permissions: a member's role decides what they may do, with no per-user
permission rows to keep in step. Every password sign-in passes the failed sign-in
throttle here, whichever door it came through."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts import throttle
from conversations.models import Membership, Role, User

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.AGENT: frozenset({"conversations.agent"}),
    Role.SUPERVISOR: frozenset({"conversations.agent", "conversations.supervise"}),
    Role.ADMIN: frozenset({"conversations.supervise"}),
}


class RoleBackend(ModelBackend):
    """E-mail and password sign-in, plus the permissions of the member's role."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """While the e-mail or the address is locked out, refused before the password is
        looked at (``PermissionDenied`` stops Django trying any other backend); a failure
        is counted. Sign-ins without a request (code on the server) are not throttled."""
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if request is None or email is None:
            return super().authenticate(request, username, password, **kwargs)
        lockout = throttle.signin_lockout(request, email)
        if lockout is not None:
            raise PermissionDenied(lockout.message)
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            throttle.signin_failed(request, email)
        return user

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        perms = set(super().get_all_permissions(user_obj, obj))
        if not user_obj.is_active or user_obj.is_anonymous:
            return perms
        try:
            membership = user_obj.membership
        except Membership.DoesNotExist:
            return perms
        return perms | ROLE_PERMISSIONS.get(membership.role, frozenset())

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)
