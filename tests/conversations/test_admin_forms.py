"""What a person types into the admin's skills, languages and metadata fields, and what
is kept: the API's rule, without JSON to write."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from conversations import tags
from conversations.admin_widgets import (
    KeyValueField,
    KeyValueWidget,
    LanguagesField,
    LanguagesWidget,
    TagsField,
    object_as_text,
)


def test_skills_typed_with_commas_are_kept_as_a_list():
    assert TagsField().clean("technical, billing") == ["billing", "technical"]


def test_skills_are_kept_lower_case_trimmed_and_once():
    assert TagsField().clean(" Billing,billing ,, TECHNICAL\nvip ") == [
        "billing",
        "technical",
        "vip",
    ]


def test_an_empty_field_keeps_no_skills():
    assert TagsField().clean("") == []
    assert TagsField().clean("  ,  ") == []


def test_a_json_list_pasted_from_the_api_is_read_as_that_list():
    assert TagsField().clean('["Retention", "billing"]') == ["billing", "retention"]


def test_a_broken_list_says_how_to_write_one():
    with pytest.raises(ValidationError, match="separated by commas"):
        TagsField().clean('["billing", 3]')


def test_too_many_or_too_long_skills_are_refused_as_by_the_api():
    with pytest.raises(ValidationError, match=f"At most {tags.TAGS_MAX}"):
        TagsField().clean(", ".join(f"skill{i}" for i in range(tags.TAGS_MAX + 1)))
    with pytest.raises(ValidationError, match=f"{tags.TAG_MAX_LENGTH} characters"):
        TagsField().clean("x" * (tags.TAG_MAX_LENGTH + 1))


def test_languages_take_iso_codes_and_names():
    assert LanguagesField().clean("EN, es, Portuguese") == ["en", "es", "pt"]


def test_an_unknown_language_code_is_refused_with_what_to_write():
    with pytest.raises(ValidationError) as refused:
        LanguagesField().clean("en, klingon, xx")

    message = " ".join(refused.value.messages)
    assert "Unknown language codes: 'klingon', 'xx'" in message
    assert "ISO 639-1" in message


def test_the_field_shows_a_kept_list_as_text_and_knows_when_it_changed():
    field = TagsField()

    assert field.prepare_value(["billing", "technical"]) == "billing, technical"
    assert not field.has_changed(["billing", "technical"], "Technical, billing")
    assert field.has_changed(["billing"], "billing, vip")


def test_the_languages_widget_offers_every_code_with_its_name():
    html = LanguagesWidget().render("languages", ["en"], attrs={"id": "id_languages"})

    assert 'value="en"' in html
    assert 'data-suggestions="id_languages-codes"' in html
    assert '<datalist id="id_languages-codes">' in html
    assert '<option value="pt">Portuguese</option>' in html


def test_metadata_rows_are_kept_as_an_object_of_strings():
    assert KeyValueField().clean("offer: 12 months at 20% off\n\ncampaign: Renewal: April") == {
        "offer": "12 months at 20% off",
        "campaign": "Renewal: April",
    }


def test_metadata_as_a_json_object_keeps_its_values():
    assert KeyValueField().clean('{"tier": 2, "tags": ["a"]}') == {"tier": 2, "tags": ["a"]}


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("offer 20% off", "Line 1 is not"),
        (": 20% off", "Line 1 is not"),
        ("offer: a\noffer: b", "given twice"),
        ("[1, 2]", "Line 1 is not"),
        ('{"offer": ', "Not a JSON object"),
        ('{"a": NaN}', "Not a JSON object"),
        ("offer: a\x00b", "NUL"),
    ],
)
def test_metadata_that_breaks_the_rule_is_refused_saying_why(typed, reason):
    with pytest.raises(ValidationError, match=reason):
        KeyValueField().clean(typed)


def test_metadata_nested_deeper_than_the_api_allows_is_refused():
    deep = '{"a": ' * 17 + "1" + "}" * 17

    with pytest.raises(ValidationError, match="deeper than 16"):
        KeyValueField().clean(deep)


def test_metadata_is_shown_as_rows_unless_only_json_keeps_it_whole():
    assert object_as_text({"offer": "20% off", "tier": "gold"}) == "offer: 20% off\ntier: gold"
    assert object_as_text({"tier": 2}) == '{\n  "tier": 2\n}'
    assert object_as_text({"a: b": "c"}).startswith("{")
    assert object_as_text({}) == ""
    assert 'class="vLargeTextField cx-keyvalue"' in KeyValueWidget().render("metadata", {})


def test_unchanged_metadata_is_not_a_change():
    field = KeyValueField()

    assert not field.has_changed({"offer": "20% off"}, "offer: 20% off")
    assert field.has_changed({"offer": "20% off"}, "offer: 30% off")
