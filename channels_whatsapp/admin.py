"""Deliveries acknowledged and not recorded yet, in the Django admin.

The list is normally empty, or holds a few deliveries for a moment. One that failed to
be recorded too many times stays here with its error, for an admin to read and, once the
cause is mended, to record again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from channels_whatsapp import inbox
from channels_whatsapp.models import InboundDelivery
from conversations.admin_scope import OrganizationScopedAdmin


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(OrganizationScopedAdmin):
    org_path = "channel__organization_id"
    supervisor_may_change = False
    list_display = ["id", "channel", "received_at", "attempts", "last_error"]
    list_select_related = ["channel"]
    fields = ("channel", "received_at", "attempts", "last_error", "delivery")
    readonly_fields = fields
    actions = ["record_again"]

    @admin.display(description="delivery as received")
    def delivery(self, obj: InboundDelivery) -> str:
        return bytes(obj.body).decode("utf-8", errors="replace")

    @admin.action(description="Record the selected deliveries again", permissions=["change"])
    def record_again(self, request: HttpRequest, queryset: QuerySet[InboundDelivery]) -> None:
        count = inbox.deliveries_retry(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliveries will be recorded again.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The delivery itself is evidence and never edited; "change" allows the action.
        return obj is None and super().has_change_permission(request, obj)
