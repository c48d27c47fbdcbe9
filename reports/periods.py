"""The period a report or a replay covers: ``from`` inclusive, ``to`` exclusive, in the
site's time zone (``TIME_ZONE``). A bare date means that day's midnight there, so
``from=2026-03-01&to=2026-04-01`` is the whole of March."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import ClassVar

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

# The longest period one report reads: a year and a day, so a leap year fits.
MAX_DAYS = 366
# Without ``from``, a report covers this many days up to ``to``.
DEFAULT_DAYS = 7


class BadParameter(ValueError):
    """A request parameter the report cannot use; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    MAX: ClassVar[timedelta] = timedelta(days=MAX_DAYS)

    @property
    def days(self) -> list[date]:
        """Every local day the period touches, in order."""
        zone = timezone.get_current_timezone()
        first = timezone.localtime(self.start, zone).date()
        last = timezone.localtime(self.end - timedelta(microseconds=1), zone).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def parse_bound(value: str, param: str) -> datetime:
    """A date (local midnight) or an ISO 8601 date-time (local when it names no offset)."""
    text = value.strip()
    try:
        moment = parse_datetime(text) if "T" in text or " " in text else None
        day = None if moment else parse_date(text)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise BadParameter(param, "Expected a date (YYYY-MM-DD) or an ISO 8601 date-time.")
    if moment is None:
        assert day is not None
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        try:
            moment = timezone.make_aware(moment)
        except (ValueError, OverflowError):
            raise BadParameter(param, "That moment does not exist in the time zone.") from None
    if not 1900 <= moment.year <= 9000:
        raise BadParameter(param, "Expected a year between 1900 and 9000.")
    return moment


def period_from(raw_from: str | None, raw_to: str | None) -> Period:
    """The period the parameters name; by default the last ``DEFAULT_DAYS`` local days up
    to the end of today."""
    if raw_to:
        end = parse_bound(raw_to, "to")
    else:
        today = timezone.localdate()
        end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
    start = parse_bound(raw_from, "from") if raw_from else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise BadParameter("to", "Expected a moment after `from`.")
    if end - start > Period.MAX:
        raise BadParameter("to", f"A period is at most {MAX_DAYS} days long.")
    return Period(start, end)
