"""Whether an agent takes chats now, and the history of that for supervisors."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from conversations.models import Membership


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

    class Meta:
        verbose_name_plural = "agent presence"

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.status}"


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

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["membership", "-at"], name="presence_history")]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.previous} -> {self.status}"
