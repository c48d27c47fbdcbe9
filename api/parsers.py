"""How the API reads a JSON body: the project's rule for outside JSON
(``conversations.json_input``), so a body nested without end or carrying a string no database
stores is a 400 naming what is wrong, before any view or serializer sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from conversations import json_input


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            # ``bytes.decode`` takes text encodings only: a compressing codec named in the
            # Content-Type cannot inflate the body past the upload limit.
            text = stream.read().decode(encoding)
        except LookupError:
            raise ParseError(f"Unsupported charset {encoding!r} in the Content-Type.") from None
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - not {encoding} text: {exc}") from None
        try:
            return json_input.loads(text, max_depth=json_input.API_MAX_DEPTH)
        except json_input.JSONInputError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
