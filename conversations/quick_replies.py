"""Quick replies: prepared answers an organization keeps, for all its projects or one.

Written here, once, for the admin, the supervision board and the API alike. Which
replies a member sees is a selector (``selectors.member_quick_replies``)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conversations.models import Organization, Project, QuickReply

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
SHORTCUT_RULE = "A shortcut is 1 to 32 letters, digits, - or _, starting with a letter or digit."
SHORTCUT_TAKEN = "This shortcut is taken in this project already."
TEXT_MAX = 4096


def clean_shortcut(value: str) -> str:
    """Shortcuts are typed after ``/``: compared without case, with no leading slash."""
    shortcut = value.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise ValidationError({"shortcut": [SHORTCUT_RULE]})
    return shortcut


def _clean_text(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationError({"text": ["A quick reply needs a text."]})
    if len(text) > TEXT_MAX:
        raise ValidationError({"text": [f"At most {TEXT_MAX} characters."]})
    return text


def _check_project(organization: Organization, project: Project | None) -> None:
    if project is not None and project.organization_id != organization.pk:
        raise ValidationError({"project": ["No such project in this organization."]})


def _save(quick_reply: QuickReply) -> QuickReply:
    """The unique constraint settles two writers racing for one shortcut."""
    try:
        with transaction.atomic():
            quick_reply.save()
    except IntegrityError:
        raise ValidationError({"shortcut": [SHORTCUT_TAKEN]}) from None
    return quick_reply


def quick_reply_create(
    *, organization: Organization, shortcut: str, text: str, project: Project | None = None
) -> QuickReply:
    _check_project(organization, project)
    return _save(
        QuickReply(
            organization=organization,
            project=project,
            shortcut=clean_shortcut(shortcut),
            text=_clean_text(text),
        )
    )


_UNSET = object()


def quick_reply_update(
    *,
    quick_reply: QuickReply,
    shortcut: str | None = None,
    text: str | None = None,
    project: Project | object | None = _UNSET,
) -> QuickReply:
    """Change what is given; ``project=None`` makes the reply one for every project."""
    if shortcut is not None:
        quick_reply.shortcut = clean_shortcut(shortcut)
    if text is not None:
        quick_reply.text = _clean_text(text)
    if project is not _UNSET:
        assert project is None or isinstance(project, Project)
        _check_project(quick_reply.organization, project)
        quick_reply.project = project
    return _save(quick_reply)


def quick_reply_delete(*, quick_reply: QuickReply) -> None:
    quick_reply.delete()
