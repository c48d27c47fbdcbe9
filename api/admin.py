"""The organization's named API tokens in the Django admin: made by an admin (the key is
shown once), listed with when each was last used, revoked with an action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from api import tokens
from api.models import IntegrationToken
from conversations.admin_scope import OrganizationScopedAdmin, request_membership
from conversations.models import Role


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(OrganizationScopedAdmin):
    supervisor_may_change = False
    list_display = ["name", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["created_by__user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return ["name"]
        return ["name", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        if obj is None:
            return []
        return ["name", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        member = request_membership(request)
        return member is not None and member.role == Role.ADMIN

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # revoked, not deleted: the list keeps who made what and when

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        member = request_membership(request)
        assert member is not None  # has_add_permission
        token, key = tokens.integration_token_create(created_by=member, name=obj.name)
        obj.pk = token.pk
        self.message_user(
            request,
            f"The key of “{token.name}”, shown this once: {key} — send it as "
            f"“Authorization: Token {key}”.",
            messages.SUCCESS,
        )

    @admin.action(description="Revoke the selected tokens (access ends at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[IntegrationToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.integration_token_revoke(token=token)
        self.message_user(request, "Revoked.", messages.SUCCESS)
