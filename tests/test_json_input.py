"""The rule for JSON from outside: bounded nesting, finite numbers, strings a database
stores. The API, the dock and the webhook all read through it."""

from __future__ import annotations

import json

import pytest

from conversations.json_input import JSONInputError, first_problem, loads


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_bound_is_read_and_one_level_more_is_refused():
    assert loads(nested(32), max_depth=32) is not None
    with pytest.raises(JSONInputError, match=r"^JSON nested deeper than 32 levels$"):
        loads(nested(33), max_depth=32)


def test_nesting_the_parser_cannot_follow_is_refused_as_too_deep():
    with pytest.raises(JSONInputError, match="nested deeper than 64 levels"):
        loads(nested(100_000).encode(), max_depth=64)


def test_brackets_inside_strings_are_not_levels():
    assert loads(json.dumps({"note": "[" * 100 + "{" * 100}), max_depth=2) == {
        "note": "[" * 100 + "{" * 100
    }


@pytest.mark.parametrize(
    ("body", "where", "what"),
    [
        ('{"offer": {"line": "20% off \\ud800"}}', "$.offer.line", "lone UTF-16 surrogate"),
        ('{"offer": ["a", "\\udfff"]}', "$.offer[1]", "lone UTF-16 surrogate"),
        ('{"x": "a\\u0000b"}', "$.x", "NUL character"),
        ('{"first name": "\\u0000"}', '$["first name"]', "NUL character"),
        ('{"a": {"\\ud800": 1}}', "a key of $.a", "lone UTF-16 surrogate"),
        ('"\\ud800"', "$", "lone UTF-16 surrogate"),
    ],
)
def test_a_string_no_database_stores_is_refused_naming_where_it_is(body, where, what):
    with pytest.raises(JSONInputError) as refused:
        loads(body, max_depth=32)
    assert str(refused.value).startswith(f"{where} holds a {what}")
    assert str(refused.value).isascii()


def test_surrogates_written_as_raw_utf8_bytes_are_found_too():
    body = '{"text": "\ud800"}'.encode("utf-8", "surrogatepass")
    with pytest.raises(JSONInputError, match="lone UTF-16 surrogate"):
        loads(body, max_depth=32)


def test_a_surrogate_pair_is_one_character_and_is_kept():
    assert loads('{"text": "caf\\u00e9 \\ud83d\\ude00"}', max_depth=32) == {
        "text": "caf\u00e9 \U0001f600"
    }


@pytest.mark.parametrize("body", ["[NaN]", "[-Infinity]", "[1e999]", "[1", b"\xff\xfe\xff"])
def test_what_is_not_strict_json_is_refused(body):
    with pytest.raises(JSONInputError, match=r"^not valid JSON: "):
        loads(body, max_depth=32)


def test_repairing_drops_nul_and_replaces_lone_surrogates_in_values_and_keys():
    body = json.dumps({"te\x00xt": ["no\x00 nul \ud800"]}).encode("utf-16")
    assert loads(body, max_depth=8, repair=True) == {"text": ["no nul ?"]}


def test_repairing_still_bounds_the_nesting():
    with pytest.raises(JSONInputError, match="nested deeper than 8 levels"):
        loads(f'["\\u0000", {nested(8)}]', max_depth=8, repair=True)


def test_a_parsed_value_is_checked_without_recursion_and_named_from_its_field():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert first_problem(deep, max_depth=16) == "JSON nested deeper than 16 levels"
    assert first_problem({"x": "\x00"}, max_depth=16, root="metadata") == (
        "metadata.x holds a NUL character (\\u0000), which cannot be stored"
    )
    assert first_problem({"x": ["fine"]}, max_depth=2) is None
