"""The API's shapes: input serializers validate a request before a service runs, output
serializers render the result. Field names follow ``conversations.events``, so a
conversation looks the same in the API and in realtime events."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations import json_input, quick_replies, tags
from conversations.channels import webhook_url
from conversations.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Membership,
    Message,
    MessageTemplate,
    Project,
    QuickReply,
    Role,
)
from presence.models import PresenceStatus

# Bounds that keep any input inside what the database columns hold.
MAX_DB_ID = 2**63 - 1
MAX_CAPACITY = 1000
PRIORITY_RANGE = 1_000_000
TAG_MAX_LENGTH = tags.TAG_MAX_LENGTH
TAGS_MAX = tags.TAGS_MAX
WHATSAPP_TEXT_MAX = 4096
METADATA_MAX_DEPTH = json_input.METADATA_MAX_DEPTH


class TagListField(serializers.ListField):
    """Skills and languages: short words, stored lower-case without duplicates
    (``conversations.tags``, the admin's rule too); ``languages`` takes ISO 639-1 codes."""

    def __init__(self, *, languages: bool = False, **kwargs: Any) -> None:
        self.languages = languages
        kwargs.setdefault("max_length", TAGS_MAX)
        super().__init__(
            child=serializers.CharField(max_length=TAG_MAX_LENGTH, allow_blank=False), **kwargs
        )

    def to_internal_value(self, data: Any) -> list[str]:
        values = super().to_internal_value(data)
        try:
            return tags.tags_clean(values, languages=self.languages)
        except tags.TagsRefused as exc:
            raise serializers.ValidationError(exc.messages) from None


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A reference to an object of the caller's organization; the queryset comes from a
    selector at request time (``context["scope"]``), so a foreign id is "does not exist"."""

    def __init__(self, *, scope: str, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        scopes = self.context.get("scopes", {})
        if self.scope in scopes:
            return scopes[self.scope]  # type: ignore[no-any-return]
        unscoped = super().get_queryset()
        assert unscoped is not None  # every field names its model's queryset
        return unscoped.none()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < pk <= MAX_DB_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(pk)


# --- errors and auth ------------------------------------------------------------------


class TokenInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


# --- projects ---------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "metadata",
            "sla_first_reply_seconds",
            "offer_timeout_seconds",
            "created_at",
        ]


# Said by the input check, and by the API when a concurrent write wins the race.
PROJECT_NAME_TAKEN = "A project with this name exists already."


class ProjectInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    metadata = serializers.JSONField(
        required=False,
        help_text="Free JSON object: the campaign's context shown to agents, nested at most "
        f"{METADATA_MAX_DEPTH} levels.",
    )
    sla_first_reply_seconds = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=7 * 24 * 3600,
        help_text="The first-reply target in seconds; null for none.",
    )
    offer_timeout_seconds = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=3600,
        help_text="0 assigns a chat at once; otherwise the seconds an agent has to accept an "
        "offered chat before it passes to the next.",
    )

    def validate_metadata(self, value: Any) -> dict[str, Any]:
        problem = json_input.metadata_problem(value)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return value

    def validate_name(self, value: str) -> str:
        taken = self.context["scopes"]["projects"].filter(name=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(PROJECT_NAME_TAKEN)
        return value


# --- channels ---------------------------------------------------------------------------

# A number, or an e-mail (``services.EMAIL_UNUSABLE``), is unique across organizations:
# refusing one says the same whether it is the caller's own or another organization's, so
# nobody learns who is a customer of the product, or which number they connected.
PHONE_NUMBER_ID_UNUSABLE = "This phone number id cannot be used."


class WhatsAppChannelSerializer(serializers.ModelSerializer):
    webhook_url = serializers.SerializerMethodField(
        help_text="Give this URL to Meta as the webhook of the number."
    )
    project = serializers.IntegerField(source="project_id")

    class Meta:
        model = Channel
        fields = [
            "id",
            "project",
            "phone_number_id",
            "business_account_id",
            "display_phone_number",
            "default_language",
            "detect_language",
            "required_skills",
            "webhook_url",
            "created_at",
        ]

    def get_webhook_url(self, channel: Channel) -> str:
        return webhook_url(channel)


class WhatsAppChannelInputSerializer(serializers.Serializer):
    """Secrets (``access_token``, ``app_secret``, ``verify_token``) are written, never read."""

    project = ScopedPrimaryKeyField(scope="projects", queryset=Project.objects.all())
    phone_number_id = serializers.RegexField(r"^[0-9]{1,64}$", max_length=64)
    business_account_id = serializers.RegexField(
        r"^[0-9]{1,64}$",
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The WhatsApp Business Account of the number: its message templates are "
        "synced from there when it is set.",
    )
    display_phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    access_token = serializers.CharField(write_only=True, max_length=4096)
    app_secret = serializers.CharField(write_only=True, max_length=255)
    verify_token = serializers.CharField(write_only=True, max_length=255)
    default_language = serializers.CharField(max_length=16, required=False)
    detect_language = serializers.BooleanField(
        required=False,
        help_text="Tell a new chat's language from the customer's first messages, among "
        "the languages the organization's agents speak; an unsure guess keeps "
        "`default_language`.",
    )
    required_skills = TagListField(required=False)

    def validate_phone_number_id(self, value: str) -> str:
        taken = Channel.objects.filter(phone_number_id=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(PHONE_NUMBER_ID_UNUSABLE)
        return value


# --- members ----------------------------------------------------------------------------


def _presence_of(member: Membership) -> Any:
    try:
        return member.presence
    except Membership.presence.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return None


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.display_name")
    projects = serializers.PrimaryKeyRelatedField(many=True, read_only=True)  # type: ignore[var-annotated]
    presence = serializers.SerializerMethodField()
    active = serializers.BooleanField(
        source="user.is_active", read_only=True, help_text="False: the member cannot sign in."
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "email",
            "name",
            "role",
            "max_open",
            "skills",
            "languages",
            "projects",
            "presence",
            "active",
        ]

    def get_presence(self, member: Membership) -> str:
        presence = _presence_of(member)
        return presence.status if presence else PresenceStatus.OFFLINE


class MemberUpdateInputSerializer(serializers.Serializer):
    password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, max_length=128
    )
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    max_open = serializers.IntegerField(min_value=0, max_value=MAX_CAPACITY, required=False)
    skills = TagListField(required=False)
    languages = TagListField(
        required=False,
        languages=True,
        help_text="ISO 639-1 codes of the languages the member writes, e.g. en, es.",
    )
    projects = ScopedPrimaryKeyField(
        scope="projects", queryset=Project.objects.all(), many=True, required=False
    )
    active = serializers.BooleanField(
        required=False,
        help_text="False: the member can no longer sign in, and their API tokens, sessions "
        "and open docks end at once. A new password ends them too.",
    )


class MemberCreateInputSerializer(MemberUpdateInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)
    max_open = serializers.IntegerField(min_value=0, max_value=MAX_CAPACITY, default=3)
    active = None  # type: ignore[assignment]  # a new member is active


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    org = serializers.IntegerField(help_text="The organization's id.")
    role = serializers.ChoiceField(choices=Role.choices)
    presence = serializers.ChoiceField(choices=PresenceStatus.choices)
    presence_since = serializers.DateTimeField(allow_null=True)
    presence_reason = serializers.CharField(
        allow_null=True, help_text="Why Busy: the name of one of the organization's reasons."
    )
    max_open = serializers.IntegerField()
    open_count = serializers.IntegerField()
    skills = serializers.ListField(child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 64}]})
class BusyReasonField(serializers.Field):  # type: ignore[type-arg]
    """A Busy reason of the organization named by its id or its name; which one is found
    by the service (``presence.services.busy_reason_find``)."""

    default_error_messages = {"invalid": "A Busy reason's id (a number) or name (a string)."}

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not data.strip():
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 64:
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class PresenceInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PresenceStatus.choices)
    reason = BusyReasonField(
        required=False,
        allow_null=True,
        help_text="Only with `busy`: why, as one of the organization's Busy reasons (kept in "
        "the admin), by its id or its name in any case. Optional; an unknown reason, or a "
        "reason with another status, is 400.",
    )


class PresenceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PresenceStatus.choices)
    since = serializers.DateTimeField()
    reason = serializers.CharField(
        source="reason_name", allow_null=True, help_text="The Busy reason's name, or null."
    )


# --- conversations ----------------------------------------------------------------------


class ContactSerializer(serializers.Serializer):
    wa_id = serializers.CharField(allow_null=True)
    user_id = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_blank=True)


class ConversationSerializer(serializers.ModelSerializer):
    contact = ContactSerializer()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "status",
            "agent",
            "project",
            "channel",
            "contact",
            "language",
            "language_source",
            "required_skills",
            "priority",
            "offered_to",
            "offer_expires_at",
            "created_at",
            "queued_at",
            "assigned_at",
            "closed_at",
            "outcome",
            "unread_count",
            "sla_due_at",
            "first_reply_at",
            "sla_breached_at",
            "waiting_for",
            "waiting_until",
        ]
        read_only_fields = ["sla_due_at", "first_reply_at", "sla_breached_at"]
        extra_kwargs = {
            "waiting_until": {"read_only": True},
            "waiting_for": {
                "read_only": True,
                "help_text": "A queued conversation an agent transferred to a colleague who "
                "had no room waits for that member until `waiting_until`; then anyone may "
                "take it (null: it waits for nobody in particular).",
            },
        }


class ConversationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    search = serializers.CharField(
        max_length=200,
        required=False,
        help_text="Full text over the customer's name and number and the messages: every "
        "word must be there, as the start of a word. The latest conversations first.",
    )
    agent = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False)
    project = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False)


class ConversationUpdateInputSerializer(serializers.Serializer):
    required_skills = TagListField(required=False)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True)
    priority = serializers.IntegerField(
        min_value=-PRIORITY_RANGE, max_value=PRIORITY_RANGE, required=False
    )


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "type",
            "text",
            "media",
            "status",
            "wamid",
            "error",
            "sender",
            "sent_at",
            "created_at",
        ]


class TemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["name", "language", "category", "status", "components"]


class TemplateInputSerializer(serializers.Serializer):
    """An approved template of the conversation's number, by name and language, with one
    text for each placeholder of its body, in order."""

    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=16)
    parameters = serializers.ListField(
        child=serializers.CharField(max_length=1024),
        max_length=100,
        required=False,
        default=list,
    )


class MessageInputSerializer(serializers.Serializer):
    """A text, a template (the only kind WhatsApp takes outside the 24-hour window), or
    with ``private`` an internal note."""

    text = serializers.CharField(max_length=WHATSAPP_TEXT_MAX, required=False)
    template = TemplateInputSerializer(required=False)
    private = serializers.BooleanField(
        default=False,
        help_text="True: an internal note for the team, kept in the thread (direction "
        "`note`) and never sent to the customer.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("text" in attrs) == ("template" in attrs):
            raise serializers.ValidationError(
                {"text": ["Send either a text or a template, not both or neither."]}
            )
        if attrs["private"] and "template" in attrs:
            raise serializers.ValidationError({"private": ["A note is a text, not a template."]})
        return attrs


class ConversationStartInputSerializer(serializers.Serializer):
    channel = ScopedPrimaryKeyField(scope="channels", queryset=Channel.objects.all())
    wa_id = serializers.RegexField(
        r"^[0-9]{6,20}$", help_text="The customer's WhatsApp number, digits only."
    )
    template = TemplateInputSerializer()
    agent = ScopedPrimaryKeyField(
        scope="agents",
        queryset=Membership.objects.all(),
        required=False,
        allow_null=True,
        help_text="Give the conversation to this agent if they are Available with room; "
        "otherwise (or without it) routing decides.",
    )


class MessageFileInputSerializer(serializers.Serializer):
    """An attachment, sent as multipart: the file, and an optional caption."""

    file = serializers.FileField(
        allow_empty_file=True,
        help_text="An image (JPEG, PNG, up to 5 MB), video (MP4, 3GP, 16 MB), audio (AAC, "
        "AMR, MP3, M4A, OGG Opus, 16 MB), sticker (WebP, 500 KB) or document (PDF, text, "
        "Word, Excel, PowerPoint, 100 MB): WhatsApp's types and limits, checked before upload.",
    )
    text = serializers.CharField(
        required=False, allow_blank=True, max_length=1024, help_text="The caption."
    )


class MessageQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="`queued` for a message; empty for a note.")


class CloseInputSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=200)


class TransferInputSerializer(serializers.Serializer):
    """To a named colleague, or back to routing (optionally needing a skill)."""

    agent = ScopedPrimaryKeyField(
        scope="agents", queryset=Membership.objects.all(), required=False, allow_null=True
    )
    skill = serializers.CharField(max_length=TAG_MAX_LENGTH, required=False, allow_blank=True)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    wait = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the colleague is full or Busy: `true`, the conversation waits in the "
        "queue for them (status `queued`, `waiting_for` that colleague) until "
        "ROUTING_TRANSFER_WAIT_SECONDS, then anyone may take it; `false`, it lands with "
        "them at once over their capacity, which only a supervisor may do (an agent gets "
        "403). Left out: an agent's transfer waits, a supervisor's lands at once. A "
        "colleague with room takes it at once either way.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("agent") and attrs.get("skill"):
            raise serializers.ValidationError(
                {"skill": ["Give either an agent or a skill, not both."]}
            )
        return attrs


class QueuedConversationSerializer(ConversationSerializer):
    """A queued conversation on the board; ``context["now"]`` fixes one clock for a page."""

    project_name = serializers.CharField(source="project.name")
    waiting_seconds = serializers.SerializerMethodField(
        help_text="Seconds since the conversation joined the queue."
    )

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "project_name", "waiting_seconds"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_waiting_seconds(self, conversation: Conversation) -> int:
        now = self.context.get("now") or timezone.now()
        return max(0, int((now - conversation.queued_at).total_seconds()))


# --- quick replies ----------------------------------------------------------------------


class QuickReplySerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(
        source="project_id", allow_null=True, help_text="null: offered in every project."
    )

    class Meta:
        model = QuickReply
        fields = ["id", "shortcut", "text", "project", "created_at"]


class QuickReplyInputSerializer(serializers.Serializer):
    shortcut = serializers.CharField(
        max_length=33, help_text="Typed after / in the composer: letters, digits, - and _."
    )
    text = serializers.CharField(
        max_length=WHATSAPP_TEXT_MAX,
        help_text="May hold placeholders the dock fills: {customer.name}, "
        "{customer.first_name}, {agent.name}, {agent.first_name}, {project.name}, "
        "{project.<metadata key>}.",
    )
    project = ScopedPrimaryKeyField(
        scope="projects",
        queryset=Project.objects.all(),
        required=False,
        allow_null=True,
        help_text="A project of the organization; null or left out: every project.",
    )

    def validate_shortcut(self, value: str) -> str:
        try:
            return quick_replies.clean_shortcut(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["shortcut"]) from None
