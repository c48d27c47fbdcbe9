"""factory_boy factories for the domain model."""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Membership,
    Message,
    MessageStatus,
    Organization,
    Project,
    Role,
    User,
)
from presence.models import AgentPresence, PresenceStatus
from routing import router

PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    metadata = factory.LazyFunction(lambda: {"offer": "20% off"})


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member with a presence row; ``presence`` sets its status (default Available for
    agents and supervisors)."""

    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(
        UserFactory,
        is_staff=factory.LazyAttribute(
            lambda u: u.factory_parent.role in (Role.SUPERVISOR, Role.ADMIN)
        ),
    )
    role = Role.AGENT
    max_open = 3
    skills = factory.LazyFunction(list)
    languages = factory.LazyFunction(lambda: ["en"])

    @factory.post_generation
    def presence(obj, create, extracted, **kwargs):
        if not create:
            return
        status = extracted or (
            PresenceStatus.AVAILABLE if obj.role != Role.ADMIN else PresenceStatus.OFFLINE
        )
        AgentPresence.objects.update_or_create(membership=obj, defaults={"status": status})

    @factory.post_generation
    def projects(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.projects.set(extracted)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    organization = factory.SubFactory(OrganizationFactory)
    project = factory.SubFactory(
        ProjectFactory, organization=factory.SelfAttribute("..organization")
    )
    phone_number_id = factory.Sequence(lambda n: f"10{n:013d}")
    display_phone_number = factory.Sequence(lambda n: f"+1 555 {n:07d}")
    access_token = "test-access-token"
    app_secret = factory.Sequence(lambda n: f"app-secret-{n}")
    verify_token = "verify-me"
    default_language = "en"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    wa_id = factory.Sequence(lambda n: f"4479{n:08d}")
    name = factory.Sequence(lambda n: f"Customer {n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    channel = factory.SubFactory(ChannelFactory)
    organization = factory.SelfAttribute("channel.organization")
    project = factory.SelfAttribute("channel.project")
    contact = factory.SubFactory(
        ContactFactory, organization=factory.SelfAttribute("..channel.organization")
    )
    status = factory.LazyAttribute(
        lambda c: ConversationStatus.ASSIGNED if c.agent else ConversationStatus.QUEUED
    )
    agent = None
    language = "en"
    assigned_at = factory.LazyAttribute(lambda c: timezone.now() if c.agent else None)
    last_inbound_at = factory.LazyFunction(timezone.now)
    # Opened as if the customer had written once, just now: that message started the clock.
    first_inbound_at = factory.SelfAttribute("last_inbound_at")

    @classmethod
    def _create(cls, model_class: type[Conversation], *args: Any, **kwargs: Any) -> Conversation:
        """An assigned chat counts among its agent's open ones, as the services keep it."""
        conversation = super()._create(model_class, *args, **kwargs)
        router.count_moved(conversation, None)
        return conversation


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.SelfAttribute("conversation.channel")
    direction = Direction.IN
    type = "text"
    text = "Hello, I need help with my order"
    status = MessageStatus.RECEIVED
    wamid = factory.Sequence(lambda n: f"wamid.TEST{n:010d}")
