"""Routing's moves of a conversation that people ask for: close, transfer, change its
needs. Each locks the conversation, checks who may, writes the move with its audit event
(``router.write_move``, ``router.assign``, ``router.requeue``), publishes it after commit
and asks for a pass of the queue when the move may let a waiting chat through.

The dock, the API and the admin call them as written here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from conversations.activity import activity_on_commit
from conversations.events import EventType
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    LanguageSource,
    Membership,
    Rule,
)
from conversations.services import clean_list
from presence.models import PresenceStatus
from routing import router
from routing.triggers import request_routing


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
    router.publish_conversation(EventType.CONVERSATION_CLOSED, locked, to=[locked.agent_id])
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
            locked.required_skills = clean_list([*locked.required_skills, skill])
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
        changes["required_skills"] = clean_list(changes["required_skills"])
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
    fields = list(diff)
    if "language" in diff:
        # A person's word on the language is final: detection no longer changes it.
        locked.language_source = LanguageSource.PERSON
        locked.language_confidence = None
        fields += ["language_source", "language_confidence"]
    locked.save(update_fields=fields)
    ConversationEvent.objects.create(
        conversation=locked,
        kind=EventKind.UPDATED,
        rule=_actor_rule(locked, actor),
        actor=actor,
        data=diff,
    )
    router.publish_conversation(EventType.CONVERSATION_UPDATED, locked, to=[locked.agent_id])
    if locked.status == ConversationStatus.QUEUED:
        request_routing(organization_id=locked.organization_id)
    return locked
