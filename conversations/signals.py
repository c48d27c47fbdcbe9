"""Hooks of the core that the apps above it answer, so that the core never imports them.

``routing_requested`` (with ``organization_id``): the organization's queue may have
changed, a chat opened or came back, a member's capacity, skills or presence changed;
whoever assigns chats should look again. It is sent once the writer's transaction
commits, so receivers see what was written and nothing of a write that rolled back.
Routing answers it (``RoutingConfig.ready``).

``member_created`` (with ``member``): a member was made, inside ``member_create``'s
transaction; an app that keeps a row for every member writes it in that transaction.
``member_deactivated`` (with ``member``): the member may no longer sign in, inside
``user_access_update``'s transaction; an app that keeps something going for them ends
it there. Presence answers both (``PresenceConfig.ready``).

``templates_sync_requested`` (with ``channel_id``): a number was connected, or given
another business account, or an admin asked; its message templates should be read from
the platform again. Sent once the writer commits; the channel app of the number's kind
answers it (``ChannelsWhatsappConfig.ready``) by enqueuing its sync.

``organization_created`` (with ``organization``): a new organization, inside the
transaction that made it; presence gives it its default list of Busy reasons.

``events_published`` (with ``events``, a list of ``realtime.Event``): events are being
recorded, inside the publisher's transaction (``realtime.publish_all``); an app that keeps
its own record of events (the event webhooks' outbox) writes it there, so it commits or
rolls back with the change the events report. ``realtime.event_organizations`` names
each event's organization. The webhooks app answers it (``WebhooksConfig.ready``)."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.dispatch import Signal

routing_requested = Signal()
member_created = Signal()
member_deactivated = Signal()
templates_sync_requested = Signal()
organization_created = Signal()
events_published = Signal()


def request_routing(*, organization_id: int) -> None:
    """Ask for the organization's queue to be routed once the caller commits."""
    transaction.on_commit(
        partial(routing_requested.send, sender=None, organization_id=organization_id)
    )


def request_templates_sync(*, channel_id: int) -> None:
    """Ask for the channel's templates to be synced once the caller commits."""
    transaction.on_commit(
        partial(templates_sync_requested.send, sender=None, channel_id=channel_id)
    )
