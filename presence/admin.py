from django.contrib import admin

from conversations.admin import MembershipAdmin
from conversations.admin_scope import OrganizationScopedAdmin, ReadOnlyInline
from presence.models import AgentPresence, BusyReason, PresenceChange

# A member's page lists their last presence changes.
PRESENCE_HISTORY_ROWS = 20


class PresenceHistoryInline(ReadOnlyInline):
    """A member's recent presence changes on their page. Presence sits above the core,
    so it adds itself to the core's member page rather than being imported by it."""

    model = PresenceChange
    fk_name = "membership"
    latest = PRESENCE_HISTORY_ROWS
    verbose_name = "presence change"
    verbose_name_plural = f"presence history (latest {PRESENCE_HISTORY_ROWS})"
    fields = ("at", "previous", "status", "source", "actor")
    readonly_fields = fields


MembershipAdmin.inlines = [*MembershipAdmin.inlines, PresenceHistoryInline]


@admin.register(AgentPresence)
class AgentPresenceAdmin(OrganizationScopedAdmin):
    org_path = "membership__organization_id"
    list_display = ["membership", "status", "reason", "since", "source", "dock_seen_at"]
    list_filter = ["status", "source"]
    supervisor_may_change = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(PresenceChange)
class PresenceChangeAdmin(OrganizationScopedAdmin):
    org_path = "membership__organization_id"
    list_display = ["membership", "previous", "status", "reason_name", "source", "actor", "at"]
    list_filter = ["status", "source", "reason_name"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(BusyReason)
class BusyReasonAdmin(OrganizationScopedAdmin):
    """The organization's list of reasons for Busy. A reason no longer used is made
    inactive rather than deleted: the presence history keeps its name either way."""

    list_display = ["name", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active"]
    fields = ["organization", "name", "position", "active"]
    supervisor_may_change = False
