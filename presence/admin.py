from django.contrib import admin

from conversations.admin_scope import OrganizationScopedAdmin
from presence.models import AgentPresence, PresenceChange


@admin.register(AgentPresence)
class AgentPresenceAdmin(OrganizationScopedAdmin):
    org_path = "membership__organization_id"
    list_display = ["membership", "status", "since", "source", "dock_seen_at"]
    list_filter = ["status", "source"]
    supervisor_may_change = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(PresenceChange)
class PresenceChangeAdmin(OrganizationScopedAdmin):
    org_path = "membership__organization_id"
    list_display = ["membership", "previous", "status", "source", "actor", "at"]
    list_filter = ["status", "source"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
