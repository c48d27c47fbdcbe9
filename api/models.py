"""What the API keeps of its own: the organization's named integration tokens and the
answers of POSTs sent with an ``Idempotency-Key``."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from conversations.models import Membership, Organization


class IntegrationToken(models.Model):
    """A named API token of the organization, for a program rather than a person.

    It acts with the admin role of the member who created it, and ends when revoked, when
    that member is deactivated or is no longer an admin; a new password of that member
    leaves it working (it is not their sign-in). Only a hash of the key is kept: the key
    is shown once, when the token is made."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="integration_tokens"
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'CRM sync'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The key's first characters, to tell tokens apart without showing the key.
    key_prefix = models.CharField(max_length=16, editable=False)
    created_by = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="integration_tokens_made"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Written at most once a minute per token (``api.authentication``).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class IdempotentRequest(models.Model):
    """The first POST sent with one ``Idempotency-Key`` by one caller, and its answer once
    there is one. The row is inserted before the request runs: the unique pair (caller,
    key) lets one request run and makes the others wait for its answer."""

    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    # A hash of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.IntegerField(null=True)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    # While the first request runs; past this (its process died) a retry may run it.
    running_until = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="api_idempotency_once")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
