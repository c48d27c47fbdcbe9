"""The one rule for JSON that comes from outside: API bodies, dock frames, WhatsApp
deliveries.

- Nesting is bounded. Python's parser recurses once per level and gives up at whatever
  depth its caller's stack leaves room for, so the same body could be read by the web
  process and fail in a worker; and every later step (serializers, the JSON encoder
  psycopg uses, the renderer) recurses again. The bound is checked on the parsed value
  without recursion, and a parser that runs out of stack first counts as too deep.
- Numbers are finite: no column stores NaN or an infinity, and no client reads them back.
- Strings are what PostgreSQL stores: text and jsonb take no NUL and no lone UTF-16
  surrogate. The API and the dock refuse them, naming where; the webhook repairs them
  (``repair=True``), since Meta cannot be asked for another body.

What this module takes, every later step can store and send back.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Far deeper than any form, command or metadata a person writes.
API_MAX_DEPTH = 32
# A Cloud API delivery nests about ten levels at most.
WEBHOOK_MAX_DEPTH = 64
# A project's metadata: campaign context an agent reads in a panel, not a document store.
METADATA_MAX_DEPTH = 16

# NUL and lone surrogates reach a parsed string only through these: a \u escape, a raw
# NUL (in UTF-16 and UTF-32 every other byte is one), the UTF-8 bytes of a surrogate
# (which ``json.loads`` decodes with "surrogatepass") or, in text, the character itself.
# A body without any of them needs no look at its strings.
_MAYBE_UNSTORABLE_BYTES = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_MAYBE_UNSTORABLE_TEXT = re.compile("\x00|\\\\u(?:0000|[dD][89a-fA-F])|[\ud800-\udfff]")
_NUL = "\x00"
# A surrogate pair decodes to one character: a surrogate left in a string is a lone one.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JSONInputError(ValueError):
    """Not JSON this service takes; the message says what is wrong and where, in ASCII."""


def loads(data: str | bytes, *, max_depth: int, repair: bool = False) -> Any:
    """Parse ``data`` under the rule above. ``repair`` drops NUL and turns a lone
    surrogate into "?" instead of refusing them.

    Raises ``JSONInputError``."""
    try:
        value = json.loads(data, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise JSONInputError(_too_deep(max_depth)) from None
    except ValueError as exc:  # not JSON, not in a Unicode encoding, an absurd integer
        raise JSONInputError(f"not valid JSON: {exc}") from None
    if isinstance(data, bytes):
        suspect = _MAYBE_UNSTORABLE_BYTES.search(data) is not None
        brackets = data.count(b"[") + data.count(b"{")
    else:
        suspect = _MAYBE_UNSTORABLE_TEXT.search(data) is not None
        brackets = data.count("[") + data.count("{")
    check_strings = suspect and not repair
    # No more brackets than levels allowed and no string to look at: nothing to walk.
    if check_strings or brackets > max_depth:
        problem = first_problem(value, max_depth=max_depth, strings=check_strings)
        if problem is not None:
            raise JSONInputError(problem)
    return _repaired(value) if repair and suspect else value


def metadata_problem(value: Any) -> str | None:
    """What makes ``value`` unfit as a project's metadata (the API's and the admin's
    rule), or None: it must be a JSON object within ``METADATA_MAX_DEPTH``."""
    if not isinstance(value, dict):
        return "Must be a JSON object."
    return first_problem(value, max_depth=METADATA_MAX_DEPTH, root="metadata")


# Where a value sits: (where its parent sits, its key or index); None is the top.
_Where = tuple[Any, str | int] | None


def first_problem(
    value: Any, *, max_depth: int, strings: bool = True, root: str = "$"
) -> str | None:
    """What makes an already parsed ``value`` break the rule, or None: nesting deeper
    than ``max_depth``, or (unless ``strings`` is false) a string or key holding NUL or
    a lone surrogate; places are named from ``root``. Walks with a list, not recursion."""
    if not isinstance(value, dict | list):
        if strings and isinstance(value, str) and _UNSTORABLE.search(value):
            return _string_problem(root, value)
        return None
    stack: list[tuple[dict[str, Any] | list[Any], int, _Where]] = [(value, 0, None)]
    while stack:
        node, depth, where = stack.pop()
        if depth == max_depth:
            return _too_deep(max_depth)
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, (where, key)))
            elif strings and isinstance(child, str) and _UNSTORABLE.search(child):
                return _string_problem(_path(root, (where, key)), child)
            if strings and isinstance(key, str) and _UNSTORABLE.search(key):
                return _string_problem(f"a key of {_path(root, where)}", key)
    return None


def _string_problem(place: str, text: str) -> str:
    if _NUL in text:
        return f"{place} holds a NUL character (\\u0000), which cannot be stored"
    return f"{place} holds a lone UTF-16 surrogate (\\ud800-\\udfff), which cannot be stored"


def _path(root: str, where: _Where) -> str:
    """``$.metadata.campaign[2]``: a key that is not a plain word is quoted, escaped to
    ASCII, so an error never carries the character it complains about."""
    parts: list[str] = []
    while where is not None:
        where, key = where
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif key.isascii() and key.isidentifier():
            parts.append(f".{key}")
        else:
            parts.append(f"[{json.dumps(key[:40])}]")
    return root + "".join(reversed(parts))


def _too_deep(max_depth: int) -> str:
    return f"JSON nested deeper than {max_depth} levels"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _repaired(value: Any) -> Any:
    """``value`` with NUL dropped and lone surrogates as "?". Recursive: only ever called
    on a value whose depth ``first_problem`` bounded."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value) is None:
            return value
        return value.replace(_NUL, "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_repaired(k): _repaired(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    return value
