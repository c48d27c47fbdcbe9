"""Finding conversations by what was said in them and by whom they were with.

A search is full text over the messages and over the customer's name and number
(PostgreSQL's, through the ``message_words`` and ``contact_words`` GIN indexes: see
``models.MessageWords`` for why expression indexes). Every word must be there, as the
start of a word (``renew`` finds "renewal"; in the messages from five letters on), so a
search narrows as the agent types. Who may find what is the caller's queryset: a
selector scoped to the member (``selectors``)."""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db.models import F, Func, QuerySet

from conversations.models import Contact, ContactWords, Conversation, Message, MessageWords

# PostgreSQL's parser cuts words at anything but letters and digits (an underscore too).
WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
# A word of a thread is matched as the start of longer words from this many letters on
# (``ren`` finds only "ren"; ``renew`` finds "renewal"); names and numbers always are.
MESSAGE_PREFIX_LETTERS = 5
MAX_WORD_LENGTH = 64
# A number is looked for by the digits it starts with, once there are enough to mean
# something.
MIN_NUMBER_DIGITS = 3


def search_words(text: str) -> list[str]:
    """The words of a search, lower-case, at most ``MAX_WORDS``."""
    return [w[:MAX_WORD_LENGTH] for w in WORD.findall(text.lower())][:MAX_WORDS]


def _raw(words: list[str], *, shortest_prefix: int = 1) -> str:
    """Every word as a prefix once it is ``shortest_prefix`` long, shorter ones whole.
    Each is letters and digits only, so it cannot break out of its quotes in the raw
    ``tsquery``."""
    return " & ".join(
        f"'{word}':*" if len(word) >= shortest_prefix else f"'{word}'" for word in words
    )


def words_query(words: list[str]) -> SearchQuery:
    """In the messages a word is a prefix from ``MESSAGE_PREFIX_LETTERS`` letters: a
    shorter one stands for so many words that reading every message holding one of them
    costs more than the search is worth."""
    raw = _raw(words, shortest_prefix=MESSAGE_PREFIX_LETTERS)
    return SearchQuery(raw, search_type="raw", config="simple")


def contact_query(words: list[str], digits: str) -> SearchQuery:
    """Every word in the name, or the number starting with the digits typed (``+44 7700``
    finds 447700...)."""
    raw = f"({_raw(words)})"
    if len(digits) >= MIN_NUMBER_DIGITS:
        raw += f" | '{digits[:MAX_WORD_LENGTH]}':*"
    return SearchQuery(raw, search_type="raw", config="simple")


def matching_messages(words: list[str]) -> QuerySet[Message]:
    """The messages holding every word: an index scan of ``message_words``."""
    return Message.objects.alias(words=MessageWords("text")).filter(words=words_query(words))


def conversations_matching(
    conversations: QuerySet[Conversation], text: str
) -> QuerySet[Conversation]:
    """Those of ``conversations`` whose messages hold every word of ``text``, or whose
    customer's name holds every word or number starts with its digits; the latest first.

    Written as the union of two searches, each within ``conversations``: one through
    the messages' index, one through the contacts'. Under an ``OR`` PostgreSQL would
    gather every match of the whole table for each before looking at whose they are;
    apart, each plan starts from whichever side is smaller (an agent's own few
    conversations, or the few messages holding a rare word)."""
    words = search_words(text)
    if not words:
        return conversations.none()
    digits = "".join(re.findall(r"\d", text))
    scope = conversations.order_by().values("pk")
    by_messages = scope.filter(pk__in=matching_messages(words).values("conversation_id"))
    contacts = Contact.objects.alias(words=ContactWords()).filter(
        words=contact_query(words, digits)
    )
    by_customer = scope.filter(contact_id__in=contacts.values("pk"))
    # The caller's filters are inside the union already: the rows are read by their ids,
    # not by scanning the scope a second time.
    found = Conversation.objects.filter(pk__in=by_messages.union(by_customer))
    found.query.select_related = conversations.query.select_related
    return found.order_by(F("last_message_at").desc(nulls_last=True), "-id")


class _WordsInThread(Func):
    """``MessageWords`` written so that the words index does not match it: the excerpts
    are looked for among the found conversations' own messages (``thread_order``), a few
    hundred rows, rather than among every message of the table holding the words."""

    function = "to_tsvector"
    template = "%(function)s('simple'::regconfig, %(expressions)s || '')"
    output_field = SearchVectorField()


def matching_excerpts(conversation_ids: list[int], text: str) -> dict[int, Message]:
    """The latest message holding every word, in each of these conversations that has one."""
    words = search_words(text)
    if not words or not conversation_ids:
        return {}
    found = (
        Message.objects.filter(conversation_id__in=conversation_ids)
        .alias(words=_WordsInThread("text"))
        .filter(words=words_query(words))
        .order_by("conversation_id", "-sent_at", "-id")
        .distinct("conversation_id")
    )
    return {message.conversation_id: message for message in found}
