"""What the webhook acknowledged and has not recorded yet."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from conversations.models import Channel


class InboundDelivery(models.Model):
    """A signed webhook delivery exactly as Meta sent it, kept from the moment we answer
    200 until its messages and statuses are recorded (then the row is deleted).

    Acknowledging is one INSERT, so the webhook answers fast at any rate; recording runs
    in Celery in batches (``channels_whatsapp.inbox``). A row that stays here means work
    still to do: the sweep picks up what a lost task left, and a delivery that keeps
    failing stays with its error for someone to look at, never dropped."""

    # No index of its own: ``inbound_by_channel`` leads with it.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_index=False)
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "inbound deliveries"
        indexes = [models.Index(fields=["channel", "id"], name="inbound_by_channel")]

    def __str__(self) -> str:
        return f"delivery {self.pk} on channel {self.channel_id}"
