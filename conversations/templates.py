"""Message templates: what a channel may send outside WhatsApp's 24-hour window.

A channel's templates are kept as the platform last reported them (``templates_replace``,
called by the channel app's sync); only approved ones are offered and sent. A template is
sent by name, language and the values of its body's placeholders (``{{1}}``, ``{{2}}``
..., in order): ``template_prepare`` checks them against the kept template and gives the
send intent the outbox stores, with the text the agent and the thread read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from conversations.models import Channel, MessageTemplate
from conversations.signals import request_templates_sync

# A placeholder of a template's text: positional (``{{1}}``) or named (``{{order_id}}``).
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# The Cloud API's limit for one parameter's text.
MAX_PARAMETER = 1024


class InvalidTemplate(ValueError):
    """The template cannot be sent as asked: unknown, not approved, or the wrong
    parameters. The text says which."""


@dataclass(frozen=True)
class TemplateSpec:
    """One template as the platform lists it (``GET .../message_templates``)."""

    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    platform_id: str = ""


@dataclass(frozen=True)
class PreparedTemplate:
    """What the outbox keeps of a template message: the send intent and its text."""

    intent: dict[str, Any]
    text: str


def body_text(components: Sequence[Any]) -> str:
    for component in components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            text = component.get("text")
            return text if isinstance(text, str) else ""
    return ""


def placeholders(components: Sequence[Any]) -> list[str]:
    """The body's placeholders, each once, in the order they first appear."""
    seen: list[str] = []
    for name in PLACEHOLDER.findall(body_text(components)):
        if name not in seen:
            seen.append(name)
    return seen


def render(components: Sequence[Any], parameters: Sequence[str]) -> str:
    """The body as the customer will read it, each placeholder filled in order."""
    values = dict(zip(placeholders(components), parameters, strict=False))
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body_text(components))


def template_prepare(
    *, channel: Channel, name: str, language: str, parameters: Sequence[Any]
) -> PreparedTemplate:
    """Check a template send against the channel's approved templates: it exists, is
    approved, and gets one text for each placeholder of its body."""
    template = (
        MessageTemplate.objects.approved()
        .filter(channel=channel, name=name, language=language)
        .first()
    )
    if template is None:
        raise InvalidTemplate(
            f"this number has no approved template {name!r} in language {language!r}"
        )
    values = [p.strip() if isinstance(p, str) else p for p in parameters]
    if any(not isinstance(v, str) or not v for v in values):
        raise InvalidTemplate("every parameter must be a non-empty text")
    if any(len(v) > MAX_PARAMETER for v in values):
        raise InvalidTemplate(f"a parameter has at most {MAX_PARAMETER} characters")
    expected = len(placeholders(template.components))
    if len(values) != expected:
        raise InvalidTemplate(
            f"the template {name!r} takes {expected} parameter(s), {len(values)} given"
        )
    return PreparedTemplate(
        intent={"name": name, "language": language, "parameters": values},
        text=render(template.components, values),
    )


@transaction.atomic
def templates_replace(*, channel: Channel, templates: Iterable[TemplateSpec]) -> int:
    """Keep exactly the templates the platform listed for the channel: new ones added,
    known ones updated (a status that changed, new text), the rest removed. Returns how
    many it keeps. An upsert and a delete by what was kept: two syncs at once end the same."""
    now = timezone.now()
    rows = {
        (t.name, t.language): MessageTemplate(
            channel=channel,
            name=t.name,
            language=t.language,
            category=t.category,
            status=t.status,
            components=t.components,
            platform_id=t.platform_id,
            synced_at=now,
        )
        for t in templates
    }
    kept = MessageTemplate.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["channel", "name", "language"],
        update_fields=["category", "status", "components", "platform_id", "synced_at"],
    )
    MessageTemplate.objects.filter(channel=channel).exclude(pk__in=[t.pk for t in kept]).delete()
    return len(kept)


def channel_templates(*, channel: Channel) -> list[MessageTemplate]:
    """The templates the channel may send, by name and language."""
    return list(MessageTemplate.objects.approved().filter(channel=channel))


def templates_sync_requested(*, channel: Channel) -> None:
    """Once the caller commits, have the channel's templates synced (it was connected,
    or given another business account); the channel app answers the signal."""
    if channel.business_account_id:
        request_templates_sync(channel_id=channel.pk)
