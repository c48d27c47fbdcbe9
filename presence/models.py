"""Whether an agent takes chats now, and the history of that for supervisors."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from conversations.models import Membership, Organization


class PresenceStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    BUSY = "busy", "Busy"
    OFFLINE = "offline", "Offline"


class PresenceSource(models.TextChoices):
    DOCK = "dock", "Dock"
    API = "api", "API"
    SUPERVISOR = "supervisor", "Supervisor"
    SYSTEM = "system", "System"
    # Set Busy by routing: the member let offers pass (declined or ran out) several in a row.
    MISSED_OFFERS = "missed-offers", "Missed offers"


# The reasons a new organization starts with; its admins keep the list in the admin.
DEFAULT_BUSY_REASONS = ("Break", "Lunch", "Training", "Meeting", "After-chat work")


class BusyReason(models.Model):
    """Why an agent is Busy, from a list each organization keeps (as on the dialler
    desk): shown with the time in the state to the agent and on the board, and kept in
    the presence history for reports. A reason no longer offered is made inactive, not
    deleted, so the history keeps pointing at it."""

    # No index of its own: ``busy_reason_name_per_org`` leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="busy_reasons", db_index=False
    )
    name = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="busy_reason_name_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AgentPresence(models.Model):
    """The current presence of one member.

    ``dock_managed`` is true while the status was last set by the member's dock: only
    then does a lost dock connection turn them Offline; presence an integrator sets
    through the API stays as set. ``dock_seen_at`` is refreshed by every live dock
    connection's heartbeat."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, primary_key=True, related_name="presence"
    )
    status = models.CharField(
        max_length=16, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE
    )
    since = models.DateTimeField(default=timezone.now)
    source = models.CharField(
        max_length=16, choices=PresenceSource.choices, default=PresenceSource.SYSTEM
    )
    dock_managed = models.BooleanField(default=False)
    dock_seen_at = models.DateTimeField(null=True, blank=True)
    # Why they are Busy (null: no reason given, or not Busy).
    reason = models.ForeignKey(
        BusyReason, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who set it when that was someone else (a supervisor): their dock names them.
    actor = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "agent presence"

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.status}"

    @property
    def reason_name(self) -> str | None:
        return self.reason.name if self.reason is not None else None

    @property
    def actor_name(self) -> str | None:
        return self.actor.user.display_name if self.actor is not None else None


class PresenceChange(models.Model):
    """Every change of presence, kept with its time."""

    # No index of its own: ``presence_history`` leads with it.
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="presence_changes", db_index=False
    )
    status = models.CharField(max_length=16, choices=PresenceStatus.choices)
    previous = models.CharField(max_length=16, choices=PresenceStatus.choices, blank=True)
    source = models.CharField(max_length=16, choices=PresenceSource.choices)
    actor = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    # Why Busy, as the reason was named then: a report reads the name even after the
    # reason is renamed or removed.
    reason = models.ForeignKey(
        BusyReason, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason_name = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["membership", "-at"], name="presence_history")]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.previous} -> {self.status}"
