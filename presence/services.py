"""Presence write paths: set by the dock, the API, a supervisor or the system.

A change locks the member's row (the router holds the same lock while it gives the
member a chat, so an assignment never lands on someone who just left), is kept in the
history, is pushed to the member and the organization's supervisors, and asks routing
to look again. Heartbeats only touch ``dock_seen_at``, at most once per throttle.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from conversations import realtime
from conversations.events import EventType, presence_payload
from conversations.models import Membership, Organization
from conversations.signals import request_routing
from presence.models import (
    DEFAULT_BUSY_REASONS,
    AgentPresence,
    BusyReason,
    PresenceChange,
    PresenceSource,
    PresenceStatus,
)


def on_member_created(*, member: Membership, **kwargs: object) -> None:
    """The core's ``member_created``: a new member starts Offline, in the transaction
    that made them."""
    AgentPresence.objects.create(membership=member)


def on_member_deactivated(*, member: Membership, **kwargs: object) -> None:
    """The core's ``member_deactivated``: one who takes chats turns Offline at once."""
    if member.works_chats:
        presence_set(member=member, status=PresenceStatus.OFFLINE, source=PresenceSource.SYSTEM)


def on_organization_created(*, organization: Organization, **kwargs: object) -> None:
    """The core's ``organization_created``: it starts with the default Busy reasons."""
    BusyReason.objects.bulk_create(
        BusyReason(organization=organization, name=name, position=position)
        for position, name in enumerate(DEFAULT_BUSY_REASONS)
    )


def busy_reason_find(*, organization_id: int, value: object) -> BusyReason:
    """The organization's active Busy reason named by ``value``: its id (a number, or a
    string of digits) or its name, in any case. Anything else is a ``ValidationError``
    naming what was given."""
    reasons = BusyReason.objects.filter(organization_id=organization_id, active=True)
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise ValidationError("reason must be a Busy reason's id or name")
    found = None
    if isinstance(value, int) or value.isdigit():
        found = reasons.filter(pk=int(value)).first() if int(value) < 2**63 else None
    if found is None and isinstance(value, str):
        found = reasons.filter(name__iexact=value.strip()).first()
    if found is None:
        names = ", ".join(reasons.values_list("name", flat=True)) or "none"
        raise ValidationError(f"no Busy reason {value!r}; this organization's are: {names}")
    return found


def heartbeat_throttle() -> timedelta:
    """Several docks (tabs) of one member beat: one write per half interval is enough."""
    return timedelta(seconds=settings.PRESENCE_HEARTBEAT_SECONDS / 2)


def liveness_cutoff(now: Any = None) -> Any:
    """Before this instant, a ``dock_seen_at`` proves no live connection for the grace.

    A live dock refreshes ``dock_seen_at`` at least every heartbeat interval, so a
    connection is only known gone one interval after its last beat; the grace runs from
    there. A grace shorter than the interval can therefore never drop a live dock."""
    now = now or timezone.now()
    return now - timedelta(
        seconds=settings.PRESENCE_DISCONNECT_GRACE_SECONDS + settings.PRESENCE_HEARTBEAT_SECONDS
    )


@transaction.atomic
def presence_set(
    *,
    member: Membership,
    status: str,
    source: str,
    actor: Membership | None = None,
    reason: BusyReason | None = None,
) -> AgentPresence:
    """Set a member's presence, Busy with an optional ``reason`` of their organization;
    kept in the history, pushed to them and their supervisors, and routing is asked to
    act. A new reason while Busy is a change too: the time in the state starts again.
    ``actor`` is whoever set it for the member (a supervisor), named on their dock."""
    if status not in PresenceStatus.values:
        raise ValidationError(f"status must be one of {', '.join(PresenceStatus.values)}")
    if source not in PresenceSource.values:
        raise ValidationError(f"source must be one of {', '.join(PresenceSource.values)}")
    if reason is not None and status != PresenceStatus.BUSY:
        raise ValidationError("a reason goes only with busy")
    if reason is not None and reason.organization_id != member.organization_id:
        raise ValidationError("no such Busy reason")
    Membership.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
    presence, _ = AgentPresence.objects.select_for_update(no_key=True).get_or_create(
        membership=member
    )
    now = timezone.now()
    previous = presence.status
    # Only the dock's own choice makes a lost dock turn the member Offline; the system
    # or a supervisor acting on the member leaves that as it was.
    if source == PresenceSource.DOCK:
        presence.dock_managed = True
        presence.dock_seen_at = now
    elif source == PresenceSource.API:
        presence.dock_managed = False
    changed = previous != status or presence.reason_id != (reason.pk if reason else None)
    if changed:
        presence.status = status
        presence.since = now
        presence.reason = reason
        presence.actor = actor if actor is not None and actor.pk != member.pk else None
    presence.source = source
    presence.save()
    if changed:
        PresenceChange.objects.create(
            membership=member,
            status=status,
            previous=previous,
            source=source,
            actor=actor,
            at=now,
            reason=reason,
            reason_name=reason.name if reason else "",
        )
        realtime.publish(
            EventType.PRESENCE_CHANGED,
            presence_payload(member_id=member.pk, presence=presence),
            to=[member.pk],
            supervisors_of=member.organization_id,
        )
        request_routing(organization_id=member.organization_id)
    return presence


def dock_heartbeat(*, member: Membership) -> None:
    """A live dock connection of ``member`` says it is there (throttled writes)."""
    now = timezone.now()
    AgentPresence.objects.filter(membership_id=member.pk).filter(
        Q(dock_seen_at__isnull=True) | Q(dock_seen_at__lt=now - heartbeat_throttle())
    ).update(dock_seen_at=now)


def dock_connected(*, member: Membership) -> None:
    """A dock connection opened: it counts as a beat at once."""
    AgentPresence.objects.filter(membership_id=member.pk).update(dock_seen_at=timezone.now())


def dock_disconnected(*, member: Membership) -> None:
    """A dock connection closed cleanly: it was live until now. Another open dock of the
    same member keeps beating; if none does, the grace runs out and the check below
    turns the member Offline."""
    dock_connected(member=member)


def presence_expire_stale() -> int:
    """Turn Offline every Available or Busy member whose dock set their presence and has
    had no live connection for ``PRESENCE_DISCONNECT_GRACE_SECONDS``. Returns how many."""
    cutoff = liveness_cutoff()
    stale = Q(dock_seen_at__isnull=True) | Q(dock_seen_at__lt=cutoff)
    member_ids = list(
        AgentPresence.objects.filter(
            stale,
            dock_managed=True,
            status__in=[PresenceStatus.AVAILABLE, PresenceStatus.BUSY],
        ).values_list("membership_id", flat=True)
    )
    expired = 0
    for member_id in member_ids:
        with transaction.atomic():
            member = Membership.objects.select_for_update(no_key=True).filter(pk=member_id).first()
            # Recheck under the lock: a heartbeat or a new choice may have come in.
            if (
                member is None
                or not AgentPresence.objects.filter(
                    stale,
                    membership_id=member_id,
                    dock_managed=True,
                    status__in=[PresenceStatus.AVAILABLE, PresenceStatus.BUSY],
                ).exists()
            ):
                continue
            presence_set(member=member, status=PresenceStatus.OFFLINE, source=PresenceSource.SYSTEM)
            expired += 1
    return expired
