"""The demo organization that ``make run`` loads: realistic enough to work a shift in."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from conversations.models import Channel, Membership, Organization, Project, Role, User
from conversations.services import channel_create, member_create, project_create

DEMO_ORG = "Northwind Telecom (demo)"
DEMO_PASSWORD = "demo-pass-2026"
DEMO_PHONE_NUMBER_ID = "109876543210001"
DEMO_APP_SECRET = "demo-app-secret"
DEMO_VERIFY_TOKEN = "demo-verify-token"
DEMO_ACCESS_TOKEN = "demo-access-token"

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
    organization, _ = Organization.objects.get_or_create(name=DEMO_ORG)
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
    return organization, channel, members
