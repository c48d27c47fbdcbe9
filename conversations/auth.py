"""Roles give permissions: a member's role decides what they may do, with no per-user
permission rows to keep in step."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from conversations.models import Membership, Role

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.AGENT: frozenset({"conversations.agent"}),
    Role.SUPERVISOR: frozenset({"conversations.agent", "conversations.supervise"}),
    Role.ADMIN: frozenset({"conversations.supervise"}),
}


class RoleBackend(ModelBackend):
    """E-mail and password sign-in, plus the permissions of the member's role."""

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
