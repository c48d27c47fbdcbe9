"""Write paths for the organization's set-up: organizations, members, projects, channels.

Each function owns its transaction and is called the same way by the API, the admin and
the management commands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.sessions import sessions_end
from conversations import realtime
from conversations.models import (
    Channel,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    Organization,
    Project,
    Role,
    Rule,
    User,
)
from conversations.selectors import PLATFORM_ACCOUNTS
from cxgear.logging import activity_on_commit
from presence.models import AgentPresence, PresenceSource, PresenceStatus
from presence.services import presence_set
from routing import router
from routing.triggers import request_routing


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
    password_check(password=password, user=User(email=email, name=name))
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
    member who takes chats also turns Offline, so their open chats go back to routing as
    those of an agent who left."""
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
        if member is not None and member.works_chats:
            presence_set(member=member, status=PresenceStatus.OFFLINE, source=PresenceSource.SYSTEM)
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
            changes[list_field] = _clean_list(changes[list_field])
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


def _lock_conversation(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("agent__user")
        .get(pk=conversation.pk)
    )


def _may_act_on(conversation: Conversation, actor: Membership) -> None:
    if actor.organization_id != conversation.organization_id:
        raise PermissionDenied("not a conversation of your organization")
    if not (actor.supervises or conversation.agent_id == actor.pk):
        raise PermissionDenied("only the assigned agent or a supervisor may do that")


def _actor_rule(conversation: Conversation, actor: Membership) -> str:
    return Rule.AGENT if conversation.agent_id == actor.pk else Rule.SUPERVISOR


@transaction.atomic
def conversation_close(
    *, conversation: Conversation, actor: Membership, outcome: str
) -> Conversation:
    """Close a conversation with its outcome; frees the agent's capacity.

    The agent stays on the closed conversation: it is how a returning customer finds
    their last agent (sticky routing)."""
    locked = _lock_conversation(conversation)
    _may_act_on(locked, actor)
    if locked.status == ConversationStatus.CLOSED:
        raise ValidationError("the conversation is already closed")
    now = timezone.now()
    outcome = (outcome or "").strip()
    router.write_move(
        locked,
        changes={"status": ConversationStatus.CLOSED, "closed_at": now, "outcome": outcome},
        kind=EventKind.CLOSED,
        rule=_actor_rule(locked, actor),
        actor=actor,
        note=outcome,
        at=now,
    )
    router.publish_conversation("conversation.closed", locked, to=[locked.agent_id])
    request_routing(organization_id=locked.organization_id)
    activity_on_commit(
        "chat %s closed by %s: %s",
        locked.pk,
        router.member_name(actor),
        outcome or "no outcome",
        conversation=locked.pk,
        actor=actor.pk,
    )
    return locked


@transaction.atomic
def conversation_transfer(
    *,
    conversation: Conversation,
    actor: Membership,
    to_agent: Membership | None = None,
    skill: str | None = None,
    note: str = "",
) -> Conversation:
    """Hand a conversation to a named agent, or back to the queue (optionally needing
    ``skill``). A supervisor may assign over capacity on purpose; it is recorded.

    The named agent must be eligible: in the project, speaking the language, with the
    skills, Available and with room. A supervisor may pass over the last two (Busy,
    full) on purpose; the event says so. Locks: the conversation, then the agent (and
    the agent it leaves, both in id order)."""
    note = (note or "").strip()
    if to_agent is not None and skill:
        raise ValidationError("transfer to an agent or to the queue with a skill, not both")
    locked = _lock_conversation(conversation)
    if locked.status == ConversationStatus.CLOSED:
        raise ValidationError("a closed conversation cannot be transferred")
    if locked.status == ConversationStatus.QUEUED and not actor.supervises:
        raise PermissionDenied("only a supervisor may assign a queued conversation")
    _may_act_on(locked, actor)
    rule = Rule.TRANSFER if locked.agent_id == actor.pk else Rule.SUPERVISOR
    if to_agent is None:
        if locked.status == ConversationStatus.QUEUED:
            raise ValidationError("the conversation is already in the queue")
        data: dict[str, Any] = {}
        if skill:
            skill = skill.strip().lower()
            locked.required_skills = _clean_list([*locked.required_skills, skill])
            locked.save(update_fields=["required_skills"])
            data["skill"] = skill
        return router.requeue(
            conversation=locked,
            kind=EventKind.TRANSFERRED,
            rule=rule,
            actor=actor,
            note=note,
            data=data,
        )
    if to_agent.organization_id != locked.organization_id or not to_agent.works_chats:
        raise ValidationError("no such agent")
    if to_agent.pk == locked.agent_id:
        raise ValidationError("the conversation is already with that agent")
    # A transfer writes both agents' open chats: their rows are locked in id order, so
    # two transfers between the same agents never wait on each other in a cycle.
    previous = router.open_with(locked)
    if previous is not None and previous < to_agent.pk:
        router.lock_member(previous)
    agent = router.lock_member(to_agent.pk)
    problems = router.ineligibility(agent, locked)
    count = agent.open_conversations
    status = getattr(getattr(agent, "presence", None), "status", PresenceStatus.OFFLINE)
    if problems:
        raise ValidationError(f"that agent cannot take this conversation: {'; '.join(problems)}")
    if status == PresenceStatus.OFFLINE:
        raise ValidationError("that agent is offline")
    over = count >= agent.max_open or status != PresenceStatus.AVAILABLE
    if over and not actor.supervises:
        raise ValidationError("that agent is busy or has no room for another conversation")
    if over:
        rule = Rule.SUPERVISOR
    return router.assign(
        conversation=locked,
        agent=agent,
        rule=rule,
        kind=EventKind.ASSIGNED
        if locked.status == ConversationStatus.QUEUED
        else EventKind.TRANSFERRED,
        actor=actor,
        note=note,
        data={
            "open": count,
            "max_open": agent.max_open,
            "presence": status,
            "over_capacity": count >= agent.max_open,
        },
    )


UPDATABLE = ("required_skills", "language", "priority")


@transaction.atomic
def conversation_update(
    *, conversation: Conversation, actor: Membership, **changes: Any
) -> Conversation:
    """Change ``required_skills``, ``language`` or ``priority``; routing looks again."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise ValidationError(f"cannot change {', '.join(unknown)}")
    if "priority" in changes and (
        not isinstance(changes["priority"], int) or isinstance(changes["priority"], bool)
    ):
        raise ValidationError("priority must be a whole number")
    if "language" in changes:
        changes["language"] = str(changes["language"] or "").strip().lower()
    if "required_skills" in changes:
        if isinstance(changes["required_skills"], str) or not isinstance(
            changes["required_skills"], list | tuple
        ):
            raise ValidationError("required_skills must be a list of skills")
        changes["required_skills"] = _clean_list(changes["required_skills"])
    locked = _lock_conversation(conversation)
    _may_act_on(locked, actor)
    if locked.status == ConversationStatus.CLOSED:
        raise ValidationError("a closed conversation cannot be changed")
    diff = {
        field: [getattr(locked, field), value]
        for field, value in changes.items()
        if getattr(locked, field) != value
    }
    if not diff:
        return locked
    for field, (_, value) in diff.items():
        setattr(locked, field, value)
    locked.save(update_fields=list(diff))
    ConversationEvent.objects.create(
        conversation=locked,
        kind=EventKind.UPDATED,
        rule=_actor_rule(locked, actor),
        actor=actor,
        data=diff,
    )
    router.publish_conversation("conversation.updated", locked, to=[locked.agent_id])
    if locked.status == ConversationStatus.QUEUED:
        request_routing(organization_id=locked.organization_id)
    return locked
