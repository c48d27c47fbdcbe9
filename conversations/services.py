"""Write paths for the organization's set-up: organizations, members, projects, channels.

Each function owns its transaction and is called the same way by the API, the admin and
the management commands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.sessions import sessions_end
from conversations import realtime, tags
from conversations.events import EventType, member_payload
from conversations.models import (
    Channel,
    Membership,
    Organization,
    Project,
    Role,
    User,
)
from conversations.selectors import PLATFORM_ACCOUNTS
from conversations.signals import (
    member_created,
    member_deactivated,
    organization_created,
    request_routing,
)
from conversations.templates import templates_sync_requested

# How the API and the admin refuse an e-mail in use, without saying whose it is.
EMAIL_UNUSABLE = "This e-mail cannot be used."


class EmailTaken(Exception):
    """A user with that e-mail address exists already.

    The message names the address, for the operator's commands; the API and the admin
    answer an organization without saying that someone, somewhere, has it."""


class PasswordRefused(Exception):
    """The password fails the validators of ``AUTH_PASSWORD_VALIDATORS``."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


def password_check(*, password: str, user: User) -> None:
    """Run the validators against the person the password is for, so that their e-mail
    or name is refused as a password even before they are saved."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise PasswordRefused(list(exc.messages)) from exc


def clean_list(values: Iterable[str]) -> list[str]:
    """Skills and languages as kept (``tags.tags_normalized``)."""
    return tags.tags_normalized(values)


@transaction.atomic
def member_create(
    *,
    organization: Organization,
    email: str,
    password: str,
    role: str = Role.AGENT,
    name: str = "",
    max_open: int = 3,
    skills: Iterable[str] = (),
    languages: Iterable[str] = (),
    projects: Iterable[Project] = (),
) -> Membership:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken(f"a user with the e-mail {email} exists already")
    password_check(password=password, user=User(email=email, name=name))
    user = User.objects.create_user(
        email=email, password=password, name=name, is_staff=role in (Role.SUPERVISOR, Role.ADMIN)
    )
    membership = Membership.objects.create(
        organization=organization,
        user=user,
        role=role,
        max_open=max_open,
        skills=clean_list(skills),
        languages=clean_list(languages),
    )
    membership.projects.set(projects)
    member_created.send(sender=Membership, member=membership)
    Token.objects.create(user=user)
    return membership


def _may_set_sign_in(*, member: Membership, actor: Membership | None) -> None:
    """A member's sign-in is their organization's to change, unless it is a platform
    account: an organization that holds a superuser must not be able to take it over."""
    if actor is not None and actor.user.is_superuser:
        return
    if actor is not None and actor.organization_id != member.organization_id:
        raise PermissionDenied("not a member of your organization")
    if User.objects.filter(PLATFORM_ACCOUNTS, pk=member.user_id).exists():
        raise PermissionDenied("This sign-in is managed by the platform, not the organization.")


@transaction.atomic
def user_access_update(
    *, user: User, password: str | None = None, active: bool | None = None
) -> User:
    """Set a person's password, or whether they may sign in at all: the one write path
    for both, from the API, the admin and the password pages.

    Either ends every way they are signed in now (``user_access_revoke``). A deactivated
    member is announced (``member_deactivated``): presence turns one who takes chats
    Offline, so their open chats go back to routing as those of an agent who left."""
    fields = []
    if password:
        user.set_password(password)
        fields.append("password")
    if active is not None:
        user.is_active = active
        fields.append("is_active")
    if fields:
        user.save(update_fields=fields)
    if password or active is False:
        user_access_revoke(user=user)
    if active is False:
        member = Membership.objects.filter(user_id=user.pk).first()
        if member is not None:
            member_deactivated.send(sender=Membership, member=member)
    return user


@transaction.atomic
def user_access_revoke(*, user: User) -> None:
    """End every way ``user`` is signed in now: their API tokens and browser sessions at
    once, their open docks right after commit (closed with the code the dock shows as
    signed out). Whoever changed their own password signs their session back in after
    this (``update_session_auth_hash``)."""
    Token.objects.filter(user_id=user.pk).delete()
    sessions_end(user_id=user.pk)
    member_id = Membership.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
    if member_id is not None:
        realtime.docks_sign_out(membership_id=member_id)


# What a member's dock and the board show of a member's settings.
MEMBER_SHOWN = frozenset({"role", "max_open", "skills", "languages"})


@transaction.atomic
def member_update(
    *, member: Membership, actor: Membership | None = None, **changes: Any
) -> Membership:
    """Change a member's role, capacity, skills, languages, projects, password or whether
    they are active (``user_access_update``).

    Capacity or skills may let queued chats through: routing is asked to look again."""
    password = changes.pop("password", None)
    active = changes.pop("active", None)
    if password or active is not None:
        _may_set_sign_in(member=member, actor=actor)
    if password:
        password_check(password=password, user=member.user)
    projects = changes.pop("projects", None)
    for list_field in ("skills", "languages"):
        if list_field in changes:
            changes[list_field] = clean_list(changes[list_field])
    for field, value in changes.items():
        setattr(member, field, value)
    if changes:
        member.save(update_fields=list(changes))
    if projects is not None:
        member.projects.set(projects)
    if password or active is not None:
        user_access_update(user=member.user, password=password, active=active)
    # A superuser's staff flag is the platform's, whatever role an organization gives them.
    if "role" in changes and not member.user.is_superuser:
        member.user.is_staff = member.role in (Role.SUPERVISOR, Role.ADMIN)
        member.user.save(update_fields=["is_staff"])
    if set(changes) & MEMBER_SHOWN:
        # Their dock shows "open / max_open" and their skills: it follows at once, not at
        # the next reload. The count is the one committed now (routing keeps it).
        member.open_conversations = (
            Membership.objects.filter(pk=member.pk).values_list("open_conversations", flat=True)
        ).get()
        realtime.publish(
            EventType.MEMBER_UPDATED,
            member_payload(member),
            to=[member.pk],
            supervisors_of=member.organization_id,
        )
    request_routing(organization_id=member.organization_id)
    return member


@transaction.atomic
def organization_create(*, name: str, admin_email: str, admin_password: str) -> Membership:
    """A new organization with its first admin, who holds an API token."""
    organization = Organization.objects.create(name=name)
    organization_created.send(sender=Organization, organization=organization)
    return member_create(
        organization=organization,
        email=admin_email,
        password=admin_password,
        role=Role.ADMIN,
        max_open=0,
    )


@transaction.atomic
def project_create(
    *,
    organization: Organization,
    name: str,
    metadata: dict[str, Any] | None = None,
    sla_first_reply_seconds: int | None = None,
    offer_timeout_seconds: int = 0,
) -> Project:
    return Project.objects.create(
        organization=organization,
        name=name,
        metadata=metadata or {},
        sla_first_reply_seconds=sla_first_reply_seconds,
        offer_timeout_seconds=offer_timeout_seconds,
    )


@transaction.atomic
def project_update(*, project: Project, **changes: Any) -> Project:
    for field, value in changes.items():
        setattr(project, field, value)
    if changes:
        project.save(update_fields=list(changes))
    return project


@transaction.atomic
def channel_create(
    *,
    organization: Organization,
    project: Project,
    phone_number_id: str,
    access_token: str,
    app_secret: str,
    verify_token: str,
    display_phone_number: str = "",
    business_account_id: str = "",
    default_language: str = "en",
    detect_language: bool = False,
    required_skills: Iterable[str] = (),
) -> Channel:
    """Connect a number; its templates are synced once it is committed."""
    channel = Channel.objects.create(
        organization=organization,
        project=project,
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        business_account_id=business_account_id,
        access_token=access_token,
        app_secret=app_secret,
        verify_token=verify_token,
        default_language=default_language.lower(),
        detect_language=detect_language,
        required_skills=clean_list(required_skills),
    )
    templates_sync_requested(channel=channel)
    return channel


@transaction.atomic
def channel_update(*, channel: Channel, **changes: Any) -> Channel:
    if "required_skills" in changes:
        changes["required_skills"] = clean_list(changes["required_skills"])
    new_account = changes.get("business_account_id", channel.business_account_id) != (
        channel.business_account_id
    )
    for field, value in changes.items():
        setattr(channel, field, value)
    if changes:
        channel.save(update_fields=list(changes))
    if new_account:
        templates_sync_requested(channel=channel)
    return channel
