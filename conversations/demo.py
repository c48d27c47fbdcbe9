"""The demo organization that ``make run`` loads: realistic enough to work a shift in."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from conversations.models import (
    Channel,
    Membership,
    Organization,
    Project,
    QuickReply,
    Role,
    User,
)
from conversations.quick_replies import quick_reply_create
from conversations.services import channel_create, member_create, project_create
from conversations.signals import organization_created

DEMO_ORG = "Northwind Telecom (demo)"
DEMO_PASSWORD = "demo-pass-2026"
DEMO_PHONE_NUMBER_ID = "109876543210001"
DEMO_APP_SECRET = "demo-app-secret"
DEMO_VERIFY_TOKEN = "demo-verify-token"
DEMO_ACCESS_TOKEN = "demo-access-token"
# Its templates are synced from this account when ``make run`` starts (``rundock``).
DEMO_BUSINESS_ACCOUNT_ID = "209876543210001"

# Each project's first-reply target, in seconds.
SLA_FIRST_REPLY_SECONDS = {"Spring Renewals 2026": 60, "Fibre Install Support": 120}

PROJECTS = {
    "Spring Renewals 2026": {
        "campaign": "Contract renewal, spring wave",
        "offer": "12 months at 20% off for renewals before 31 May",
        "script": "Confirm the current plan, then offer the loyalty discount.",
        "escalation": "Retention desk for cancellations",
    },
    "Fibre Install Support": {
        "campaign": "Fibre installation follow-up",
        "offer": "Free router upgrade when the install slips past its date",
        "script": "Check the install ticket, confirm the slot, book a technician if needed.",
        "escalation": "Field operations",
    },
}


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str
    max_open: int
    languages: tuple[str, ...]
    skills: tuple[str, ...]


PEOPLE = (
    DemoPerson(
        "supervisor@demo.cxgear.test",
        "Sam Supervisor",
        Role.SUPERVISOR,
        5,
        ("en", "es"),
        ("renewals", "billing", "technical"),
    ),
    DemoPerson(
        "ana@demo.cxgear.test", "Ana Agent", Role.AGENT, 5, ("en", "es"), ("renewals", "billing")
    ),
    DemoPerson("ben@demo.cxgear.test", "Ben Agent", Role.AGENT, 3, ("en",), ("technical",)),
    DemoPerson(
        "chloe@demo.cxgear.test",
        "Chloé Agent",
        Role.AGENT,
        4,
        ("en", "fr"),
        ("renewals", "technical"),
    ),
    DemoPerson("dev@demo.cxgear.test", "Dev Agent", Role.AGENT, 2, ("en", "de"), ("billing",)),
    DemoPerson("admin@demo.cxgear.test", "Ada Admin", Role.ADMIN, 0, ("en",), ()),
)


@transaction.atomic
def bootstrap_demo() -> tuple[Organization, Channel, list[Membership]]:
    """Create the demo once; running it again finds what is there."""
    organization, created = Organization.objects.get_or_create(name=DEMO_ORG)
    if created:
        organization_created.send(sender=Organization, organization=organization)
    projects = []
    for name, metadata in PROJECTS.items():
        project = Project.objects.filter(organization=organization, name=name).first()
        projects.append(
            project
            or project_create(
                organization=organization,
                name=name,
                metadata=metadata,
                sla_first_reply_seconds=SLA_FIRST_REPLY_SECONDS[name],
            )
        )
    channel = Channel.objects.filter(phone_number_id=DEMO_PHONE_NUMBER_ID).first()
    if channel is None:
        channel = channel_create(
            organization=organization,
            project=projects[0],
            phone_number_id=DEMO_PHONE_NUMBER_ID,
            display_phone_number="+1 555 010 0200",
            access_token=DEMO_ACCESS_TOKEN,
            app_secret=DEMO_APP_SECRET,
            verify_token=DEMO_VERIFY_TOKEN,
            default_language="en",
            detect_language=True,
        )
    if not channel.business_account_id:
        # Set without asking for a sync: ``rundock`` syncs once the fake Cloud API it
        # starts is listening (an earlier demo's channel gets the account here too).
        Channel.objects.filter(pk=channel.pk).update(business_account_id=DEMO_BUSINESS_ACCOUNT_ID)
        channel.business_account_id = DEMO_BUSINESS_ACCOUNT_ID
    members = []
    for person in PEOPLE:
        user = User.objects.filter(email=person.email).first()
        if user is not None:
            members.append(user.membership)
            continue
        members.append(
            member_create(
                organization=organization,
                email=person.email,
                password=DEMO_PASSWORD,
                name=person.name,
                role=person.role,
                max_open=person.max_open,
                languages=person.languages,
                skills=person.skills,
                projects=projects,
            )
        )
    demo_quick_replies(organization=organization, renewals=projects[0])
    return organization, channel, members


# Shortcut, text, and whether it belongs to the renewals campaign only.
QUICK_REPLIES = (
    (
        "hello",
        "Hi {customer.first_name}, this is {agent.first_name} from Northwind. How can I help?",
        False,
    ),
    (
        "offer",
        "Good news, {customer.first_name}: {project.offer}. Shall I set it up for you?",
        True,
    ),
    ("refund", "I've started the refund; it reaches your account within 5 working days.", False),
    ("bye", "Thanks for writing to us, {customer.first_name}. Have a good day!", False),
)


def demo_quick_replies(*, organization: Organization, renewals: Project) -> None:
    """The demo's quick replies, made once."""
    for shortcut, text, renewals_only in QUICK_REPLIES:
        project = renewals if renewals_only else None
        if not QuickReply.objects.filter(
            organization=organization, project=project, shortcut=shortcut
        ).exists():
            quick_reply_create(
                organization=organization, project=project, shortcut=shortcut, text=text
            )
