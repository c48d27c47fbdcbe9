"""Telling a customer's language from their first words, so that routing can give the
chat to an agent who reads it (WhatsApp says nothing of the customer's language).

The detector is lingua's, built for the languages the organization's agents speak (a
language nobody speaks would route nowhere) and kept for the life of the process: one
per set of languages. It runs in lingua's low-accuracy mode, trigram models only:
measured for five languages, it takes 30 MB and 0.03 s to build, against 190 MB and
0.5 s for the high-accuracy mode, in every worker process that records deliveries. The
low mode is the less sure on short text, so the thresholds below are high: a wrong
language sends the customer to someone who cannot read them, an unsure guess only keeps
the default, and the customer's next message is tried again."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from conversations.models import Membership

# A detection is confident when lingua gives its language at least ``CONFIDENT`` and the
# runner-up at least ``MARGIN`` less. Chosen on ``tests/conversations/language_samples.py``'s
# tuning list: in the low mode its correct answers score 0.98 or more and everything else
# (one- and two-word thanks, emoji, numbers) 0.55 or less; the bar sits near the top of
# that gap, because a wrong answer costs more than an unsure one. The held-out list
# checks it.
CONFIDENT = 0.95
MARGIN = 0.90
# Never more than this much of the customer's text is read: the first lines say it.
MAX_CHARACTERS = 1000


@dataclass(frozen=True)
class Detection:
    """What the detector made of a text: its language when confident (else None), with
    the confidence of its best guess and of the runner-up."""

    language: str | None
    best: str | None
    confidence: float
    runner_up: float


UNSURE = Detection(language=None, best=None, confidence=0.0, runner_up=0.0)


def _lingua_language(code: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        return None


@functools.lru_cache(maxsize=16)
def detector_for(codes: frozenset[str]) -> LanguageDetector | None:
    """The detector for these ISO 639-1 codes (those lingua knows), built once per
    process; None when fewer than two are known: there is nothing to choose between."""
    languages = {lang for lang in map(_lingua_language, sorted(codes)) if lang is not None}
    if len(languages) < 2:
        return None
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def organization_languages(*, organization_id: int) -> frozenset[str]:
    """The languages the organization's agents speak, as they are kept (lower case)."""
    spoken: set[str] = set()
    for languages in (
        Membership.objects.works_chats()
        .filter(organization_id=organization_id)
        .values_list("languages", flat=True)
    ):
        spoken.update(str(code).lower() for code in languages or [])
    return frozenset(spoken)


def language_detect(*, text: str, languages: Iterable[str]) -> Detection:
    """The language of ``text`` among ``languages``, when the detector is confident."""
    detector = detector_for(frozenset(languages))
    text = text.strip()[:MAX_CHARACTERS]
    if detector is None or not text:
        return UNSURE
    values = detector.compute_language_confidence_values(text)
    if not values:
        return UNSURE
    best = values[0]
    runner_up = values[1].value if len(values) > 1 else 0.0
    code = best.language.iso_code_639_1.name.lower()
    confident = best.value >= CONFIDENT and best.value - runner_up >= MARGIN
    return Detection(
        language=code if confident else None,
        best=code,
        confidence=round(best.value, 3),
        runner_up=round(runner_up, 3),
    )
