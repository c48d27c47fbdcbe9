from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from conversations import quick_replies, selectors, services, templates
from conversations.admin_scope import OrganizationScopedAdmin, ReadOnlyInline, request_membership
from conversations.admin_widgets import ADMIN_MEDIA
from conversations.channels import webhook_url
from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    Membership,
    Message,
    MessageTemplate,
    Organization,
    Project,
    QuickReply,
    Role,
    User,
)
from conversations.services import EMAIL_UNUSABLE


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A list filter on a related object that offers only the viewer's organization's
    objects: the stock filter would list every organization's projects and agents."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[Any]:
        member = request_membership(request)
        queryset = field.related_model._default_manager.all()
        if not request.user.is_superuser:  # type: ignore[union-attr]
            if member is None:
                return []
            queryset = queryset.filter(organization_id=member.organization_id)
        return [(obj.pk, str(obj)) for obj in queryset.order_by("pk")]


def _unused_email(email: str, *, but: User | None = None) -> str:
    """E-mails are unique across organizations; one in use is refused without saying
    where."""
    email = User.objects.normalize_email(email).lower()
    taken = User.objects.filter(email__iexact=email)
    if but is not None:
        taken = taken.exclude(pk=but.pk)
    if taken.exists():
        raise forms.ValidationError(EMAIL_UNUSABLE)
    return email


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    """An organization's admin may rename it; making and removing organizations is the
    platform's (``create_org``, or a superuser)."""

    org_path = "pk"
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # type: ignore[union-attr]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser  # type: ignore[union-attr]


class UserForm(forms.ModelForm):
    def clean_email(self) -> str:
        return _unused_email(self.cleaned_data["email"], but=self.instance)


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin):
    """An organization's admin manages its members' sign-ins, never a platform account.
    People join an organization through the Membership form, which makes the sign-in
    and the membership together; a sign-in of no organization is a superuser's to add."""

    org_path = "membership__organization_id"
    # Sign-ins are the admin's: a supervisor could otherwise lock colleagues out.
    supervisor_may_change = False
    form = UserForm
    list_display = ["email", "name", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    fields = ["email", "name", "is_active", "is_staff", "last_login", "date_joined"]
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request: HttpRequest) -> Any:
        if request.user.is_superuser:  # type: ignore[union-attr]
            return super().get_queryset(request)
        member = request_membership(request)
        if member is None:
            return User.objects.none()
        return selectors.organization_accounts(member=member)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:  # type: ignore[union-attr]
            return self.readonly_fields
        # The member's role makes them staff or not.
        return [*self.readonly_fields, "is_staff"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # type: ignore[union-attr]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Whether the user may sign in goes through ``user_access_update`` (in the admin's
        transaction of the whole change): turning it off ends their tokens, sessions and
        open docks."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            services.user_access_update(user=obj, active=form.cleaned_data["is_active"])


class MemberAddForm(forms.ModelForm):
    """A new person and their membership, made together by ``member_create``: the admin
    of an organization never picks an existing sign-in, which could be anyone's."""

    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=200, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # The organization of an organization's admin; a superuser picks one in the form.
    organization_fixed: Organization | None = None

    class Meta:
        model = Membership
        fields = ["organization", "role", "max_open", "skills", "languages", "projects"]

    def clean_email(self) -> str:
        return _unused_email(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization = self.organization_fixed or cleaned.get("organization")
        cleaned["organization"] = organization
        password, again = cleaned.get("password1"), cleaned.get("password2")
        if password and again and password != again:
            self.add_error("password2", "The two passwords differ.")
        elif password and cleaned.get("email"):
            person = User(email=cleaned["email"], name=cleaned.get("name", ""))
            try:
                services.password_check(password=password, user=person)
            except services.PasswordRefused as exc:
                self.add_error("password1", exc.messages)
        projects = cleaned.get("projects") or []
        if organization and any(p.organization_id != organization.pk for p in projects):
            self.add_error("projects", "Pick projects of the member's organization.")
        return cleaned


MEMBER_SETTINGS = ("role", "max_open", "skills", "languages")


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    """Changes go through ``member_update`` so routing reconsiders the queue; supervisors
    may change capacity, skills, languages and projects, not roles."""

    list_display = [
        "user",
        "role",
        "presence_status",
        "open_count",
        "max_open",
        "skills",
        "languages",
    ]
    list_filter = ["role", "presence__status", ("projects", ScopedRelatedFilter)]
    search_fields = ["user__email", "user__name", "skills", "languages"]
    list_select_related = ["user", "presence"]
    filter_horizontal = ["projects"]
    add_fields = ["email", "name", "password1", "password2", *MEMBER_SETTINGS, "projects"]

    @admin.display(description="presence", ordering="presence__status")
    def presence_status(self, member: Membership) -> str:
        presence = getattr(member, "presence", None)
        return presence.get_status_display() if presence else "Offline"

    @admin.display(description="open", ordering="open_conversations")
    def open_count(self, member: Membership) -> int:
        return member.open_conversations

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        member = request_membership(request)
        if request.user.is_superuser or (member and member.role == Role.ADMIN):  # type: ignore[union-attr]
            return ["organization", "user", "created_at", "last_assigned_at"] if obj else []
        return ["organization", "user", "role", "created_at", "last_assigned_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return super().get_fields(request, obj)
        if request.user.is_superuser:  # type: ignore[union-attr]
            return ["organization", *self.add_fields]
        return self.add_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = MemberAddForm
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        member = request_membership(request)
        if obj is None and member is not None and not request.user.is_superuser:  # type: ignore[union-attr]
            form.organization_fixed = member.organization
        return form

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        return services.member_create(
            organization=data["organization"],
            email=data["email"],
            password=data["password1"],
            name=data.get("name", ""),
            role=data["role"],
            max_open=data["max_open"],
            skills=data.get("skills") or [],
            languages=data.get("languages") or [],
            projects=data.get("projects") or [],
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            return  # ``save_form`` made the member with their sign-in
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in MEMBER_SETTINGS}
        services.member_update(member=obj, **changes)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)


class ChannelInline(ReadOnlyInline):
    """A project's numbers at a glance; each is connected and changed on its own page,
    where its secrets are."""

    model = Channel
    show_change_link = True
    fields = ("display_phone_number", "phone_number_id", "default_language", "created_at")
    readonly_fields = fields


@admin.register(Project)
class ProjectAdmin(OrganizationScopedAdmin):
    # Set-up is the admin's, as in the API; supervisors read it.
    supervisor_may_change = False
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]
    inlines = [ChannelInline]


# Written, never shown again: an empty field on a change keeps the one stored.
CHANNEL_SECRETS = ("access_token", "app_secret", "verify_token")


@admin.register(Channel)
class ChannelAdmin(OrganizationScopedAdmin):
    supervisor_may_change = False
    list_display = [
        "display_phone_number",
        "phone_number_id",
        "project",
        "default_language",
        "detect_language",
    ]
    list_filter = [("project", ScopedRelatedFilter)]
    actions = ["sync_templates"]
    search_fields = ["display_phone_number", "phone_number_id", "project__name"]
    readonly_fields = ["webhook", "verify_token_status", "key", "created_at"]
    media = ADMIN_MEDIA

    @admin.display(description="Webhook URL")
    def webhook(self, channel: Channel) -> str:
        """The URL to give Meta, with a button that copies it."""
        if channel.pk is None:
            return "Shown once the number is saved."
        return format_html(
            '<code class="cx-webhook-url">{}</code> '
            '<button type="button" class="button cx-copy" data-copy="{}">Copy</button> '
            '<span class="cx-copied" role="status" aria-live="polite"></span>'
            '<div class="help">Give Meta this URL as the webhook of the number, with the '
            "verify token below.</div>",
            webhook_url(channel),
            webhook_url(channel),
        )

    @admin.display(description="Verify token")
    def verify_token_status(self, channel: Channel) -> str:
        """Whether Meta's verify token is set; the token itself is never shown."""
        return format_html(
            '{}<div class="help">Meta sends it back when you save the webhook URL; it is '
            "never shown here.</div>",
            "set" if channel.verify_token else "not set",
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # Secrets are written, never shown again.
        for secret in CHANNEL_SECRETS:
            if secret in form.base_fields:
                form.base_fields[secret].widget = forms.PasswordInput(render_value=False)
                form.base_fields[secret].required = obj is None
                if obj is not None:
                    field = form.base_fields[secret]
                    field.help_text = f"{field.help_text} Stored; leave empty to keep it."
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            for secret in CHANNEL_SECRETS:
                if not form.cleaned_data.get(secret):
                    setattr(
                        obj,
                        secret,
                        form.initial.get(secret) or getattr(Channel.objects.get(pk=obj.pk), secret),
                    )
        super().save_model(request, obj, form, change)
        if not change or "business_account_id" in form.changed_data:
            templates.templates_sync_requested(channel=obj)

    @admin.action(description="Sync the message templates now", permissions=["change"])
    def sync_templates(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for channel in queryset.exclude(business_account_id=""):
            templates.templates_sync_requested(channel=channel)
            count += 1
        self.message_user(request, f"The templates of {count} number(s) will be synced.")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(OrganizationScopedAdmin):
    """A number's templates as last synced from its business account: read here, changed
    on Meta's side (the number's "Sync the message templates now" reads them again)."""

    org_path = "channel__organization_id"
    supervisor_may_change = False
    list_display = ["name", "language", "category", "status", "channel", "synced_at"]
    list_filter = ["status", "category", "language"]
    list_select_related = ["channel"]
    search_fields = ["name"]
    readonly_fields = [
        "channel",
        "name",
        "language",
        "category",
        "status",
        "components",
        "platform_id",
        "synced_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(OrganizationScopedAdmin):
    list_display = ["name", "wa_id", "user_id", "language", "created_at"]
    search_fields = ["name", "wa_id", "user_id"]
    list_filter = ["language"]
    readonly_fields = ["created_at"]


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("sent_at", "direction", "type", "text", "status", "sender")
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = ConversationEvent
    fields = ("created_at", "kind", "rule", "actor", "from_agent", "to_agent", "note")
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(OrganizationScopedAdmin):
    """Threads are read-only here: changes go through the dock, the board or the API,
    which route and audit them."""

    list_display = [
        "id",
        "contact",
        "project",
        "status",
        "agent",
        "priority",
        "queued_at",
        "closed_at",
    ]
    list_filter = [
        "status",
        ("project", ScopedRelatedFilter),
        ("channel", ScopedRelatedFilter),
        ("agent", ScopedRelatedFilter),
        "language",
    ]
    search_fields = [
        "=id",
        "contact__name",
        "contact__wa_id",
        "contact__user_id",
        "agent__user__email",
        "outcome",
    ]
    list_select_related = ["contact", "project", "agent__user"]
    date_hierarchy = "created_at"
    inlines = [MessageInline, EventInline]
    supervisor_may_change = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class QuickReplyForm(forms.ModelForm):
    class Meta:
        model = QuickReply
        fields = ["organization", "project", "shortcut", "text"]

    def clean_shortcut(self) -> str:
        try:
            return quick_replies.clean_shortcut(self.cleaned_data["shortcut"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["shortcut"]) from None

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        organization, project = cleaned.get("organization"), cleaned.get("project")
        if organization and project and project.organization_id != organization.pk:
            self.add_error("project", "This project belongs to another organization.")
        return cleaned


@admin.register(QuickReply)
class QuickReplyAdmin(OrganizationScopedAdmin):
    """Supervisors keep their team's quick replies, as on the board and in the API."""

    form = QuickReplyForm
    list_display = ["shortcut", "project", "text"]
    list_filter = [("project", ScopedRelatedFilter)]
    search_fields = ["shortcut", "text"]
    list_select_related = ["project"]

    def _keeps(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._role(request) in (Role.ADMIN, Role.SUPERVISOR)  # type: ignore[union-attr]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._keeps(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._keeps(request)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        member = request_membership(request)
        if member is not None:
            initial.setdefault("organization", str(member.organization_id))
        return initial

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            quick_replies.quick_reply_update(
                quick_reply=obj,
                shortcut=data["shortcut"],
                text=data["text"],
                project=data["project"],
            )
        else:
            saved = quick_replies.quick_reply_create(
                organization=data["organization"],
                project=data["project"],
                shortcut=data["shortcut"],
                text=data["text"],
            )
            obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        quick_replies.quick_reply_delete(quick_reply=obj)
