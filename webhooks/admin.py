"""Event subscriptions in the Django admin: why one is paused, its queued events and
the delivery log, and "send again"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from conversations.admin_scope import OrganizationScopedAdmin, request_membership
from webhooks import services
from webhooks.models import DeliveryAttempt, Subscription, WebhookEvent


class SubscriptionForm(ModelForm):  # type: ignore[type-arg]
    """The secret is written, never shown again; left empty on a change it stays."""

    url = forms.URLField(
        max_length=2000, assume_scheme="https", help_text="Where each event is POSTed as JSON."
    )
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        min_length=16,
        max_length=200,
        help_text="Signs every body (X-CXGear-Signature). At least 16 characters; "
        "leave empty to keep the current one.",
    )

    class Meta:
        model = Subscription
        fields = ["organization", "url", "events", "secret", "active", "description"]

    def clean_secret(self) -> str:
        value: str = self.cleaned_data.get("secret") or ""
        if value:
            return value
        if self.instance.pk:
            return str(self.instance.secret)
        raise ValidationError("Give a secret of at least 16 characters.")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        errors = services.subscription_errors(url=cleaned.get("url"), events=cleaned.get("events"))
        if errors:
            raise ValidationError(errors)
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(OrganizationScopedAdmin):
    form = SubscriptionForm
    supervisor_may_change = False
    list_display = ["url", "organization", "active", "consecutive_failures", "paused_at"]
    list_filter = ["active"]
    readonly_fields = ["consecutive_failures", "paused_at", "pause_reason", "created_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Through the services, as the API: turning a paused subscription on resumes it."""
        data = form.cleaned_data
        if not change:
            made = services.subscription_create(
                organization=data["organization"],
                url=data["url"],
                events=data["events"],
                secret=data["secret"],
                active=data.get("active", True),
                description=data.get("description", ""),
                created_by=request_membership(request),
            )
            obj.pk = made.pk
            return
        changes = {field: data[field] for field in form.changed_data if field in data}
        changes.pop("organization", None)
        services.subscription_update(subscription=obj, **changes)


class DeliveryAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "succeeded", "status_code", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(OrganizationScopedAdmin):
    """The delivery log: each event owed to a subscription, with its attempts."""

    org_path = "subscription__organization_id"
    supervisor_may_change = False
    list_display = ["event_id", "type", "subscription", "state", "attempts", "created_at"]
    list_filter = ["state", "type"]
    list_select_related = ["subscription"]
    fields = (
        "subscription",
        "event_id",
        "type",
        "state",
        "attempts",
        "occurred_at",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "data",
    )
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]
    actions = ["send_again"]

    @admin.action(description="Send the selected events again", permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        events = list(queryset)
        for event in events:
            services.event_send_again(event=event)
        self.message_user(request, f"{len(events)} events will be sent again.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
