"""Write paths for the organization's set-up: organizations, members, projects, channels.

Each function owns its transaction and is called the same way by the API, the admin and
the management commands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from rest_framework.authtoken.models import Token

from conversations.models import Channel, Membership, Organization, Project, Role, User
from presence.models import AgentPresence
from routing.triggers import request_routing


class EmailTaken(Exception):
    """A user with that e-mail address exists already."""


def _clean_list(values: Iterable[str]) -> list[str]:
    return sorted({v.strip().lower() for v in values if v and v.strip()})


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
    user = User.objects.create_user(
        email=email, password=password, name=name, is_staff=role in (Role.SUPERVISOR, Role.ADMIN)
    )
    membership = Membership.objects.create(
        organization=organization,
        user=user,
        role=role,
        max_open=max_open,
        skills=_clean_list(skills),
        languages=_clean_list(languages),
    )
    membership.projects.set(projects)
    AgentPresence.objects.create(membership=membership)
    Token.objects.create(user=user)
    return membership


@transaction.atomic
def member_update(*, member: Membership, **changes: Any) -> Membership:
    """Change a member's role, capacity, skills, languages, projects or password.

    Capacity or skills may let queued chats through: routing is asked to look again."""
    password = changes.pop("password", None)
    projects = changes.pop("projects", None)
    for list_field in ("skills", "languages"):
        if list_field in changes:
            changes[list_field] = _clean_list(changes[list_field])
    for field, value in changes.items():
        setattr(member, field, value)
    if changes:
        member.save(update_fields=list(changes))
    if projects is not None:
        member.projects.set(projects)
    if password:
        member.user.set_password(password)
        member.user.save(update_fields=["password"])
    if "role" in changes:
        member.user.is_staff = member.role in (Role.SUPERVISOR, Role.ADMIN)
        member.user.save(update_fields=["is_staff"])
    request_routing(organization_id=member.organization_id)
    return member


@transaction.atomic
def organization_create(*, name: str, admin_email: str, admin_password: str) -> Membership:
    """A new organization with its first admin, who holds an API token."""
    organization = Organization.objects.create(name=name)
    return member_create(
        organization=organization,
        email=admin_email,
        password=admin_password,
        role=Role.ADMIN,
        max_open=0,
    )


@transaction.atomic
def project_create(
    *, organization: Organization, name: str, metadata: dict[str, Any] | None = None
) -> Project:
    return Project.objects.create(organization=organization, name=name, metadata=metadata or {})


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
    default_language: str = "en",
    required_skills: Iterable[str] = (),
) -> Channel:
    return Channel.objects.create(
        organization=organization,
        project=project,
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        access_token=access_token,
        app_secret=app_secret,
        verify_token=verify_token,
        default_language=default_language.lower(),
        required_skills=_clean_list(required_skills),
    )


@transaction.atomic
def channel_update(*, channel: Channel, **changes: Any) -> Channel:
    if "required_skills" in changes:
        changes["required_skills"] = _clean_list(changes["required_skills"])
    for field, value in changes.items():
        setattr(channel, field, value)
    if changes:
        channel.save(update_fields=list(changes))
    return channel


# --- conversation lifecycle (routing issue) ---------------------------------------------
# The signatures are fixed: the dock, the API and the admin call them as written here.


def conversation_close(*, conversation: Any, actor: Membership, outcome: str) -> Any:
    """Close a conversation with its outcome; frees the agent's capacity."""
    raise NotImplementedError


def conversation_transfer(
    *,
    conversation: Any,
    actor: Membership,
    to_agent: Membership | None = None,
    skill: str | None = None,
    note: str = "",
) -> Any:
    """Hand a conversation to a named agent, or back to the queue (optionally needing
    ``skill``). A supervisor may assign over capacity on purpose; it is recorded."""
    raise NotImplementedError


def conversation_update(*, conversation: Any, actor: Membership, **changes: Any) -> Any:
    """Change ``required_skills``, ``language`` or ``priority``; routing looks again."""
    raise NotImplementedError
