"""Finding conversations by what was said in them and by whom they were with.

A search is full text over the messages (PostgreSQL's, through the ``message_words``
GIN index: see ``models.MessageWords`` for why an expression index) and a match on the
customer's name and number. Every word must be there, each as the start of a word
(``ren`` finds "renewal"), so a search narrows as the agent types. Who may find what is
the caller's queryset: a selector scoped to the member (``selectors``)."""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery
from django.db.models import F, Q, QuerySet

from conversations.models import Conversation, Message, MessageWords

# PostgreSQL's parser cuts words at anything but letters and digits (an underscore too).
WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
MAX_WORD_LENGTH = 64
# A number is looked for by its digits, once there are enough to mean something.
MIN_NUMBER_DIGITS = 3


def search_words(text: str) -> list[str]:
    """The words of a search, lower-case, at most ``MAX_WORDS``."""
    return [w[:MAX_WORD_LENGTH] for w in WORD.findall(text.lower())][:MAX_WORDS]


def words_query(words: list[str]) -> SearchQuery:
    """Every word as a prefix. Each is letters and digits only, so it cannot break out
    of its quotes in the raw ``tsquery``."""
    return SearchQuery(
        " & ".join(f"'{word}':*" for word in words), search_type="raw", config="simple"
    )


def matching_messages(words: list[str]) -> QuerySet[Message]:
    """The messages holding every word: an index scan of ``message_words``."""
    return Message.objects.alias(words=MessageWords("text")).filter(words=words_query(words))


def conversations_matching(
    conversations: QuerySet[Conversation], text: str
) -> QuerySet[Conversation]:
    """Those of ``conversations`` whose messages hold every word of ``text``, or whose
    customer's name holds every word or number holds its digits; the latest first."""
    words = search_words(text)
    if not words:
        return conversations.none()
    by_name = Q()
    for word in words:
        by_name &= Q(contact__name__icontains=word)
    found = Q(pk__in=matching_messages(words).values("conversation_id")) | by_name
    digits = "".join(re.findall(r"\d", text))
    if len(digits) >= MIN_NUMBER_DIGITS:
        found |= Q(contact__wa_id__contains=digits)
    return conversations.filter(found).order_by(F("last_message_at").desc(nulls_last=True), "-id")


def matching_excerpts(conversation_ids: list[int], text: str) -> dict[int, Message]:
    """The latest message holding every word, in each of these conversations that has one."""
    words = search_words(text)
    if not words or not conversation_ids:
        return {}
    found = (
        matching_messages(words)
        .filter(conversation_id__in=conversation_ids)
        .order_by("conversation_id", "-sent_at", "-id")
        .distinct("conversation_id")
    )
    return {message.conversation_id: message for message in found}
