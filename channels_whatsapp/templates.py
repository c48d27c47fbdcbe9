"""A number's message templates, read from its WhatsApp Business Account.

``GET {WHATSAPP_GRAPH_URL}/<business_account_id>/message_templates`` lists them a page at
a time (``data``, ``paging.cursors.after`` and ``paging.next`` while there is more);
every page is read, then the core keeps exactly what was listed
(``conversations.templates.templates_replace``). Synced when a number is connected or
its business account changes, when an admin asks, and daily by beat."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from django.conf import settings

from channels_whatsapp.transport import TIMEOUT
from conversations import passes
from conversations.models import Channel, ChannelKind, MessageTemplate
from conversations.templates import TemplateSpec, templates_replace

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# A business account has at most a few hundred templates; past this many pages the
# listing is taken to loop.
MAX_PAGES = 50
FIELDS = "id,name,language,category,status,components"


class TemplateSyncError(Exception):
    """The templates could not be read from the platform; the text says why."""


def templates_fetch(*, channel: Channel, graph_url: str | None = None) -> list[TemplateSpec]:
    """Every template of the channel's business account, whatever its status."""
    if not channel.business_account_id:
        raise TemplateSyncError("the channel has no business_account_id to read templates from")
    base = graph_url or settings.WHATSAPP_GRAPH_URL
    url: str | None = f"{base}/{channel.business_account_id}/message_templates"
    params: dict[str, Any] | None = {"fields": FIELDS, "limit": PAGE_SIZE}
    headers = {"Authorization": f"Bearer {channel.access_token}"}
    found: list[TemplateSpec] = []
    with httpx.Client(timeout=TIMEOUT) as client:
        for _ in range(MAX_PAGES):
            if url is None:
                return found
            page = _page(client, url, params, headers)
            found += [spec for item in page.get("data") or [] if (spec := _spec(item))]
            paging = page.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            # ``next`` carries the query already: the cursor and the fields.
            url, params = (
                (following, None) if isinstance(following, str) and following else (None, None)
            )
    raise TemplateSyncError(f"more than {MAX_PAGES} pages of templates")


def _page(
    client: httpx.Client, url: str, params: dict[str, Any] | None, headers: dict[str, str]
) -> dict[str, Any]:
    try:
        response = client.get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise TemplateSyncError(f"the Cloud API could not be reached: {exc}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        detail = error.get("message") if isinstance(error, dict) else None
        raise TemplateSyncError(
            f"the Cloud API answered HTTP {response.status_code}"
            + (f": {detail}" if detail else "")
        )
    return answer


def _spec(item: Any) -> TemplateSpec | None:
    if not isinstance(item, dict):
        return None
    name, language = item.get("name"), item.get("language")
    if not (isinstance(name, str) and name and isinstance(language, str) and language):
        return None
    components = item.get("components")
    return TemplateSpec(
        name=name[:512],
        language=language[:16],
        category=str(item.get("category") or "")[:32],
        status=str(item.get("status") or "")[:32],
        components=[c for c in components if isinstance(c, dict)]
        if isinstance(components, list)
        else [],
        platform_id=str(item.get("id") or "")[:64],
    )


def templates_sync(*, channel: Channel, graph_url: str | None = None) -> list[MessageTemplate]:
    """Read the channel's templates from the platform and keep them; returns the ones it
    may send (approved)."""
    specs = templates_fetch(channel=channel, graph_url=graph_url)
    templates_replace(channel=channel, templates=specs)
    logger.info("templates synced", extra={"channel": channel.pk, "templates": len(specs)})
    return list(MessageTemplate.objects.approved().filter(channel=channel))


def templates_sync_all() -> int:
    """Every WhatsApp channel with a business account; one that fails is logged and the
    others still synced. Returns how many synced."""
    synced = 0
    channels = Channel.objects.filter(kind=ChannelKind.WHATSAPP).exclude(business_account_id="")
    for channel in channels.order_by("pk"):
        try:
            templates_sync(channel=channel)
        except TemplateSyncError as exc:
            logger.warning("templates not synced", extra={"channel": channel.pk, "error": str(exc)})
        else:
            synced += 1
    return synced


SYNC_TASK = "channels_whatsapp.tasks.sync_templates"


def sync_requested(*, channel_id: int, **_: Any) -> None:
    """The core asked for a number's templates (``templates_sync_requested``, sent after
    commit): a task reads them, so the request that connected the number never waits
    for the platform. A broker that cannot be reached is logged; the daily sync and the
    admin's "sync now" remain."""
    channel = Channel.objects.filter(pk=channel_id, kind=ChannelKind.WHATSAPP).first()
    if channel is not None:
        passes.send_after_commit(SYNC_TASK, channel.pk)
