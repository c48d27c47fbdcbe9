"""The models and their migrations say the same thing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    # --check exits non-zero when makemigrations would write anything.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_the_open_conversations_counter_starts_from_the_chats_already_assigned():
    before = [("conversations", "0001_initial")]
    after = [("conversations", "0002_membership_open_conversations")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organization = old.get_model("conversations", "Organization").objects.create(name="Old")
    project = old.get_model("conversations", "Project").objects.create(
        organization=organization, name="Old campaign"
    )
    channel = old.get_model("conversations", "Channel").objects.create(
        organization=organization,
        project=project,
        key="old-channel",
        phone_number_id="1",
        access_token="t",
        app_secret="s",
        verify_token="v",
    )
    members = [
        old.get_model("conversations", "Membership").objects.create(
            organization=organization,
            user=old.get_model("conversations", "User").objects.create(email=f"{i}@old.test"),
        )
        for i in range(3)
    ]
    Contact = old.get_model("conversations", "Contact")
    Conversation = old.get_model("conversations", "Conversation")
    for i, (status, agent) in enumerate(
        [
            ("assigned", members[0]),
            ("assigned", members[0]),
            ("assigned", members[1]),
            ("closed", members[1]),
            ("closed", members[2]),
            ("queued", None),
        ]
    ):
        Conversation.objects.create(
            organization=organization,
            project=project,
            channel=channel,
            contact=Contact.objects.create(organization=organization, wa_id=str(i)),
            status=status,
            agent=agent,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    try:
        Membership = executor.loader.project_state(after).apps.get_model(
            "conversations", "Membership"
        )
        counters = dict(Membership.objects.values_list("pk", "open_conversations"))
        assert [counters[m.pk] for m in members] == [2, 1, 0]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_a_first_reply_target_kept_in_metadata_becomes_the_projects_field():
    before = [("conversations", "0007_routing_load_order_without_constants")]
    after = [("conversations", "0008_project_sla_and_offer_timeout")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organization = old.get_model("conversations", "Organization").objects.create(name="Old")
    Project = old.get_model("conversations", "Project")
    timed = Project.objects.create(
        organization=organization,
        name="Timed",
        metadata={"sla_first_reply_seconds": 90, "offer": "20% off"},
    )
    untimed = Project.objects.create(organization=organization, name="Untimed", metadata={})

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    try:
        Project = executor.loader.project_state(after).apps.get_model("conversations", "Project")
        migrated = {p.pk: (p.sla_first_reply_seconds, p.metadata) for p in Project.objects.all()}
        assert migrated[timed.pk] == (90, {"offer": "20% off"})
        assert migrated[untimed.pk] == (None, {})
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_first_reply_clock_of_existing_chats_is_worked_out_from_their_threads():
    before = [("conversations", "0016_help_texts_for_the_admin")]
    after = [("conversations", "0017_conversation_first_inbound_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organization = old.get_model("conversations", "Organization").objects.create(name="Old")
    project = old.get_model("conversations", "Project").objects.create(
        organization=organization, name="Old campaign"
    )
    channel = old.get_model("conversations", "Channel").objects.create(
        organization=organization,
        project=project,
        key="old-channel",
        phone_number_id="1",
        access_token="t",
        app_secret="s",
        verify_token="v",
    )
    Contact = old.get_model("conversations", "Contact")
    Conversation = old.get_model("conversations", "Conversation")
    Message = old.get_model("conversations", "Message")
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    chats = [
        Conversation.objects.create(
            organization=organization,
            project=project,
            channel=channel,
            contact=Contact.objects.create(organization=organization, wa_id=str(n)),
            status="closed",
        )
        for n in range(3)
    ]
    threads = {
        # Our template, the customer, a note, the customer again, then the reply.
        chats[0]: [("out", 0), ("in", 60), ("note", 70), ("in", 80), ("out", 95)],
        # Answered before the migration: its recorded first reply stays.
        chats[1]: [("in", 0), ("out", 30)],
        # Only our template: the customer never wrote.
        chats[2]: [("out", 0)],
    }
    for chat, thread in threads.items():
        for direction, after_seconds in thread:
            at = start + timedelta(seconds=after_seconds)
            Message.objects.create(
                conversation=chat, channel=channel, direction=direction, sent_at=at, created_at=at
            )
    Conversation.objects.filter(pk=chats[1].pk).update(first_reply_at=start + timedelta(seconds=31))

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    try:
        Conversation = executor.loader.project_state(after).apps.get_model(
            "conversations", "Conversation"
        )
        clocks = {
            pk: (started, replied)
            for pk, started, replied in Conversation.objects.values_list(
                "pk", "first_inbound_at", "first_reply_at"
            )
        }
        at = [start + timedelta(seconds=n) for n in (0, 31, 60, 95)]
        assert clocks[chats[0].pk] == (at[2], at[3])
        assert clocks[chats[1].pk] == (at[0], at[1])
        assert clocks[chats[2].pk] == (None, None)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
