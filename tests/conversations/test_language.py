"""The detector of a customer's language on short messages: a confident answer is the
right one, and an unsure one says so (the chat then keeps its default).

The thresholds were chosen on ``language_samples.TUNING``; ``HELD_OUT`` played no part
in choosing them, and is checked on its own."""

from __future__ import annotations

import pytest

from conversations.language import UNSURE, detector_for, language_detect
from tests.conversations.language_samples import HELD_OUT, LANGUAGES, TUNING


def _checked(samples: list[tuple[str, str | None]]) -> tuple[int, list[str]]:
    """How many were confidently detected, and what went wrong."""
    confident = 0
    wrong = []
    for text, label in samples:
        found = language_detect(text=text, languages=LANGUAGES)
        if found.language is None:
            continue
        confident += 1
        if found.language != label:
            wrong.append(f"{text!r}: {found.language} ({found.confidence}), is {label}")
    return confident, wrong


def test_there_are_thirty_labelled_messages_in_five_languages():
    samples = TUNING + HELD_OUT
    assert len(samples) == 30
    assert {label for _, label in samples} - {None} == set(LANGUAGES)


@pytest.mark.parametrize("samples", [TUNING, HELD_OUT], ids=["tuning", "held-out"])
def test_every_confident_detection_is_the_right_language(samples):
    confident, wrong = _checked(samples)

    assert wrong == []
    # It is not right by never answering: most messages a person can place, it places.
    placeable = sum(1 for _, label in samples if label is not None)
    assert confident >= placeable * 0.6


@pytest.mark.parametrize("samples", [TUNING, HELD_OUT], ids=["tuning", "held-out"])
def test_a_message_no_person_could_place_is_unsure(samples):
    for text, label in samples:
        if label is None:
            assert language_detect(text=text, languages=LANGUAGES).language is None, text


def test_only_the_languages_asked_for_are_answered():
    found = language_detect(text="Ich möchte meinen Vertrag kündigen", languages=["en", "es"])

    assert found.language in (None, "en", "es")


def test_with_fewer_than_two_known_languages_there_is_nothing_to_detect():
    assert detector_for(frozenset({"en"})) is None
    assert detector_for(frozenset({"en", "xx"})) is None
    assert language_detect(text="Hallo, wie geht es?", languages=["de"]) == UNSURE


def test_the_detector_is_built_once_per_set_of_languages():
    assert detector_for(frozenset(LANGUAGES)) is detector_for(frozenset(reversed(LANGUAGES)))
