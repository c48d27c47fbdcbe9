"""Admin form fields a person can fill in without writing JSON.

Skills and languages are typed as tags ("technical, billing"), metadata as key and value
rows. Each widget renders a plain input first: a comma-separated text field, a textarea
of ``key: value`` lines. ``static/js/admin-widgets.js`` turns them into chips and rows
when scripts run, and writes back into that same input, so the server reads one format
with or without the script. The rules are the API's: ``conversations.tags`` for the
lists, ``conversations.json_input`` for metadata."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from conversations import json_input, tags

ADMIN_MEDIA = forms.Media(js=["js/admin-widgets.js"], css={"all": ["css/admin.css"]})

_SEPARATORS = re.compile(r"[,\n]")
_LANGUAGE_BY_NAME = {name.lower(): code for code, name in tags.LANGUAGES.items()}


class TagsWidget(forms.TextInput):
    """A comma-separated text field the script shows as chips."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"class": "vTextField cx-tags", "autocomplete": "off", **(attrs or {})})

    @property
    def media(self) -> forms.Media:
        return ADMIN_MEDIA

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return super().format_value(value)


class LanguagesWidget(TagsWidget):
    """Tags with the ISO 639-1 codes offered as suggestions (a ``datalist``)."""

    template_name = "conversations/widgets/languages.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        list_id = f"{context['widget']['attrs'].get('id') or name}-codes"
        context["widget"]["attrs"]["data-suggestions"] = list_id
        context["widget"]["languages"] = sorted(tags.LANGUAGES.items())
        context["widget"]["list_id"] = list_id
        return context


def tags_from_text(text: str) -> list[str]:
    """What a person typed, as entries: separated by commas or lines. A JSON list (as
    the API takes, or a value pasted from it) is read as that list."""
    text = text.strip()
    if text.startswith("["):
        try:
            parsed = json_input.loads(text, max_depth=1)
        except json_input.JSONInputError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(v, str) for v in parsed):
            return parsed
        raise ValidationError("Enter the entries separated by commas, e.g. technical, billing.")
    return [part for part in _SEPARATORS.split(text) if part.strip()]


class TagsField(forms.Field):
    """A list of short words, kept as ``conversations.tags`` says."""

    widget = TagsWidget
    languages = False
    default_help_text = "Separate entries with commas, e.g. technical, billing."

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        if not kwargs.get("help_text"):
            kwargs["help_text"] = self.default_help_text
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        if isinstance(value, list | tuple):
            entries = [str(v) for v in value]
        else:
            entries = tags_from_text(str(value))
        if self.languages:
            entries = [_LANGUAGE_BY_NAME.get(e.strip().lower(), e) for e in entries]
        try:
            return tags.tags_clean(entries, languages=self.languages)
        except tags.TagsRefused as exc:
            raise ValidationError(exc.messages) from None

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            new = self.to_python(data)
        except ValidationError:
            return True
        return tags.tags_normalized(initial or []) != new


class LanguagesField(TagsField):
    widget = LanguagesWidget
    languages = True
    default_help_text = (
        "Two-letter ISO 639-1 codes separated by commas, e.g. en, es; pick from the suggestions."
    )


class KeyValueWidget(forms.Textarea):
    """A textarea of ``key: value`` lines (or a JSON object) the script shows as rows."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"class": "vLargeTextField cx-keyvalue", "rows": 6, **(attrs or {})})

    @property
    def media(self) -> forms.Media:
        return ADMIN_MEDIA

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dict):
            return object_as_text(value)
        return super().format_value(value)


def object_as_text(value: dict[str, Any]) -> str:
    """``key: value`` lines when every value is a one-line string and every key can be
    written that way; else the object as JSON, so nothing typed is lost on saving."""
    plain = all(
        isinstance(v, str)
        and "\n" not in v
        and isinstance(k, str)
        and k.strip() == k
        and k
        and ":" not in k
        and "\n" not in k
        for k, v in value.items()
    )
    if not value:
        return ""
    if plain and not next(iter(value)).startswith("{"):
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False, indent=2)


def object_from_text(text: str) -> dict[str, Any]:
    """``key: value`` lines (values kept as strings), or a JSON object."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json_input.loads(text, max_depth=json_input.API_MAX_DEPTH)
        except json_input.JSONInputError as exc:
            raise ValidationError(f"Not a JSON object: {exc}.") from None
    else:
        value = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, colon, rest = line.partition(":")
            if not colon or not key.strip():
                raise ValidationError(
                    f"Line {number} is not “key: value”; write one key, a colon, and its value."
                )
            if key.strip() in value:
                raise ValidationError(f"The key “{key.strip()[:40]}” is given twice.")
            value[key.strip()] = rest.strip()
    problem = json_input.metadata_problem(value)
    if problem is not None:
        raise ValidationError(problem)
    return value  # type: ignore[no-any-return]


class KeyValueField(forms.Field):
    """A JSON object entered as key and value rows, under the API's metadata rule."""

    widget = KeyValueWidget
    default_help_text = (
        "One “key: value” per line, e.g. offer: 12 months at 20% off (or a JSON object)."
    )

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        if not kwargs.get("help_text"):
            kwargs["help_text"] = self.default_help_text
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return object_as_text(value)
        return value

    def to_python(self, value: Any) -> dict[str, Any]:
        if value in self.empty_values:
            return {}
        if isinstance(value, dict):
            problem = json_input.metadata_problem(value)
            if problem is not None:
                raise ValidationError(problem)
            return value
        return object_from_text(str(value))

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return (initial or {}) != self.to_python(data)
        except ValidationError:
            return True


# The JSON fields of the models that people fill in, by name: lists of words and objects.
TAG_FIELDS: dict[str, type[TagsField]] = {
    "skills": TagsField,
    "required_skills": TagsField,
    "languages": LanguagesField,
}
OBJECT_FIELDS = {"metadata", "attributes"}


def friendly_formfield(db_field: Any, **kwargs: Any) -> forms.Field | None:
    """The form field for a JSON model field people fill in, or None for the default."""
    options = {
        "label": kwargs.get("label") or forms.utils.pretty_name(db_field.name).capitalize(),
        "help_text": db_field.help_text,
    }
    if db_field.name in TAG_FIELDS:
        return TAG_FIELDS[db_field.name](**options)
    if db_field.name in OBJECT_FIELDS:
        return KeyValueField(**options)
    return None
