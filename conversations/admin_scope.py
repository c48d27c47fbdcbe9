"""Django admin scoped to the signed-in member's organization.

A staff member of one organization sees only that organization's rows and can pick only
its rows in forms; a superuser sees everything. Platform rows (organizations, sign-ins of
no organization, superusers) are never offered to an organization. Admins may change
configuration, supervisors may look and change, agents have no admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from conversations import selectors
from conversations.admin_widgets import friendly_formfield
from conversations.models import Membership, Organization, Role, User


def request_membership(request: HttpRequest) -> Membership | None:
    try:
        return request.user.membership  # type: ignore[union-attr]
    except (AttributeError, Membership.DoesNotExist):
        return None


class OrganizationScopedAdmin(admin.ModelAdmin):
    """``org_path`` is the lookup from this model to its organization id."""

    org_path = "organization_id"
    supervisor_may_change = True

    def _role(self, request: HttpRequest) -> str | None:
        member = request_membership(request)
        return member.role if member else None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:  # type: ignore[union-attr]
            return qs
        member = request_membership(request)
        if member is None:
            return qs.none()
        return qs.filter(**{self.org_path: member.organization_id})

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Skills, languages and metadata are typed as tags and rows, not as JSON."""
        friendly = friendly_formfield(db_field, **kwargs)
        if friendly is not None:
            return friendly
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        self._scope_choices(field, request)
        return field

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        self._scope_choices(field, request)
        return field

    def _scope_choices(self, field: Any, request: HttpRequest) -> None:
        """A choice of a model with no known way to its organization offers nothing: a
        new relation must be scoped on purpose, not listed whole by default."""
        if field is None or request.user.is_superuser:  # type: ignore[union-attr]
            return
        member = request_membership(request)
        model = field.queryset.model
        if member is None:
            field.queryset = field.queryset.none()
        elif model is Organization:
            field.queryset = field.queryset.filter(pk=member.organization_id)
        elif model is User:
            field.queryset = selectors.organization_accounts(member=member)
        elif hasattr(model, "organization_id"):
            field.queryset = field.queryset.filter(organization_id=member.organization_id)
        else:
            field.queryset = field.queryset.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._role(request) in (Role.ADMIN, Role.SUPERVISOR)  # type: ignore[union-attr]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        role = self._role(request)
        return (
            request.user.is_superuser
            or role == Role.ADMIN
            or (  # type: ignore[union-attr]
                self.supervisor_may_change and role == Role.SUPERVISOR
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._role(request) == Role.ADMIN  # type: ignore[union-attr]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser or self._role(request) == Role.ADMIN  # type: ignore[union-attr]


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on their parent's page and changed nowhere there. Whoever may view the
    parent (its admin is scoped above) may view them: roles, not per-model permission
    rows, decide what a member sees. ``latest`` keeps a long history to its first rows
    in the model's order (newest first, for a history)."""

    extra = 0
    can_delete = False
    latest: int | None = None

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset: Any = super().get_formset(request, obj, **kwargs)
        latest = self.latest

        class Shown(formset):  # type: ignore[misc,valid-type]
            """Rendered, never read back: the parent's form posted without these rows
            (by a script, or by a page from before a row was added) is still whole."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.pop("data", None)
                kwargs.pop("files", None)
                super().__init__(*args, **kwargs)

            def is_valid(self) -> bool:
                return True

            def save(self, commit: bool = True) -> list[Any]:
                self.new_objects: list[Any] = []
                self.changed_objects: list[Any] = []
                self.deleted_objects: list[Any] = []
                return []

            def get_queryset(self) -> Any:
                if not hasattr(self, "_queryset"):
                    rows = super().get_queryset()
                    self._queryset = rows if latest is None else rows[:latest]
                return self._queryset

        return Shown

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """Every row of the model: the formset keeps the parent's own, and the parent's
        page is reached only through its scoped admin."""
        rows = self.model._default_manager.get_queryset()
        ordering = self.get_ordering(request)
        return rows.order_by(*ordering) if ordering else rows

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """A new parent has no rows yet: its add page shows none."""
        if obj is None:
            return False
        member = request_membership(request)
        return request.user.is_superuser or (  # type: ignore[union-attr]
            member is not None and member.role in (Role.ADMIN, Role.SUPERVISOR)
        )

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
