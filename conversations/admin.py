from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from conversations.admin_scope import OrganizationScopedAdmin
from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    Membership,
    Message,
    Organization,
    Project,
    User,
)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    org_path = "pk"
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin):
    org_path = "membership__organization_id"
    list_display = ["email", "name", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    fields = ["email", "name", "is_active", "is_staff", "last_login", "date_joined"]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    list_display = ["user", "role", "max_open", "skills", "languages"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__name"]
    filter_horizontal = ["projects"]


@admin.register(Project)
class ProjectAdmin(OrganizationScopedAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Channel)
class ChannelAdmin(OrganizationScopedAdmin):
    list_display = ["display_phone_number", "phone_number_id", "project", "default_language"]
    list_filter = ["project"]
    search_fields = ["display_phone_number", "phone_number_id"]
    readonly_fields = ["key"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # Secrets are written, never shown again.
        for secret in ("access_token", "app_secret"):
            if secret in form.base_fields:
                from django import forms

                form.base_fields[secret].widget = forms.PasswordInput(render_value=False)
                form.base_fields[secret].required = obj is None
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            for secret in ("access_token", "app_secret"):
                if not form.cleaned_data.get(secret):
                    setattr(
                        obj,
                        secret,
                        form.initial.get(secret) or getattr(Channel.objects.get(pk=obj.pk), secret),
                    )
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(OrganizationScopedAdmin):
    list_display = ["name", "wa_id", "user_id", "language", "created_at"]
    search_fields = ["name", "wa_id", "user_id"]
    list_filter = ["language"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["sent_at", "direction", "type", "text", "status", "sender"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = ConversationEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "rule", "actor", "from_agent", "to_agent", "note"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(OrganizationScopedAdmin):
    """Threads are read-only here: changes go through the dock, the board or the API,
    which route and audit them."""

    list_display = ["id", "contact", "project", "status", "agent", "priority", "queued_at"]
    list_filter = ["status", "project", "channel"]
    search_fields = ["contact__name", "contact__wa_id", "outcome"]
    inlines = [MessageInline, EventInline]
    supervisor_may_change = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
