"""Reads that screens and the API share. Every queryset that serves a person starts
here, scoped to that person's organization, so no view can forget the scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Membership,
    Message,
    Project,
    QuickReply,
    Role,
    User,
)

# Sign-ins that are the platform's, not an organization's: superusers, staff that no
# organization's role made staff, and people with no membership at all. Only a
# superuser sees, picks or changes them.
PLATFORM_ACCOUNTS = (
    Q(is_superuser=True) | Q(is_staff=True, membership__role=Role.AGENT) | Q(membership=None)
)


def member_projects(*, member: Membership) -> QuerySet[Project]:
    return Project.objects.filter(organization_id=member.organization_id)


def member_channels(*, member: Membership) -> QuerySet[Channel]:
    return Channel.objects.filter(organization_id=member.organization_id).select_related("project")


def member_members(*, member: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization_id=member.organization_id)
        .select_related("user", "presence")
        .prefetch_related("projects")
    )


def organization_accounts(*, member: Membership) -> QuerySet[User]:
    """The sign-ins whose e-mail and password the member's organization manages."""
    return User.objects.filter(membership__organization_id=member.organization_id).exclude(
        PLATFORM_ACCOUNTS
    )


def member_contacts(*, member: Membership) -> QuerySet[Contact]:
    return Contact.objects.filter(organization_id=member.organization_id)


def visible_conversations(*, member: Membership) -> QuerySet[Conversation]:
    """Supervisors and admins see the organization's conversations; agents their own."""
    qs = Conversation.objects.filter(organization_id=member.organization_id).select_related(
        "contact", "project", "channel", "agent__user"
    )
    if not member.supervises:
        qs = qs.filter(agent_id=member.pk)
    return qs


def open_conversations_of(*, member: Membership) -> QuerySet[Conversation]:
    """The chats in a member's dock."""
    return visible_conversations(member=member).filter(
        agent_id=member.pk, status=ConversationStatus.ASSIGNED
    )


def offers_to(*, member: Membership) -> QuerySet[Conversation]:
    """The chats offered to a member now, waiting for their answer, soonest to run out
    first."""
    return (
        Conversation.objects.filter(
            organization_id=member.organization_id,
            status=ConversationStatus.OFFERED,
            offered_to_id=member.pk,
        )
        .select_related("contact", "project", "channel", "agent__user")
        .order_by("offer_expires_at")
    )


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("sender__user").order_by("sent_at", "id")


def visible_messages(*, member: Membership) -> QuerySet[Message]:
    """The messages of the conversations the member sees (``visible_conversations``)."""
    return Message.objects.filter(
        conversation__in=visible_conversations(member=member).values("pk")
    ).select_related("conversation")


def member_quick_replies(*, member: Membership) -> QuerySet[QuickReply]:
    """The organization's quick replies, every project's and those for all projects."""
    return (
        QuickReply.objects.filter(organization_id=member.organization_id)
        .select_related("project")
        .order_by("shortcut", "project_id", "id")
    )


def readable_conversations(*, member: Membership) -> QuerySet[Conversation]:
    """What a member may read the transcript of: the conversations they see, and the
    earlier conversations of the customers of those, whoever worked them (the context
    of a chat includes its customer's history)."""
    visible = visible_conversations(member=member)
    if member.supervises:
        return visible
    return Conversation.objects.filter(
        organization_id=member.organization_id,
        contact_id__in=visible.values("contact_id"),
    ).select_related("contact", "project", "channel", "agent__user")
