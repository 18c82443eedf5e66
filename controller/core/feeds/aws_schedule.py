"""AWS schedule expressions, as EventBridge (and so Lambda and the Serverless Framework's
`schedule:` events) writes them: `cron(Minutes Hours Day-of-month Month Day-of-week Year)` and
`rate(N unit)`. Pure: parsing and due-time maths over epoch milliseconds, no I/O.

EventBridge's rules, not Unix cron's: six fields, all required; day-of-week 1-7 is SUN-SAT
(or the names); exactly one of day-of-month and day-of-week is `?` (`*` in both, or a value
in both, is refused); `L` (last day of the month; `5L` the month's last Thursday), `W`
(`15W` the weekday nearest the 15th within its month; `LW` the last weekday) and `#`
(`3#2` the month's second Tuesday); years 1970-2199. `rate(1 minute)`, `rate(5 minutes)`:
the unit is singular for 1 and plural otherwise, as EventBridge insists; a rate counts from
the schedule's start, not from the clock's round numbers.

Searching day by day for the next match costs ~10 µs a day, so even `cron(0 0 29 2 ? 2196)`
from 2026 (62,000 days) answers in under a second; everything usual answers within a few days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
YEARS = (1970, 2199)
_RATE = re.compile(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)", re.IGNORECASE)
_UNITS = {"minute": 1, "hour": 60, "day": 1440}


class InvalidSchedule(ValueError):
    """The expression is not a valid EventBridge schedule; the message says why."""


def is_aws(expression: object) -> bool:
    """True for `cron(...)` and `rate(...)`, the forms this module reads."""
    text = str(expression).strip().lower()
    return text.startswith(("cron(", "rate(")) and text.endswith(")")


@dataclass(frozen=True, slots=True)
class Rate:
    minutes: int

    def next_after(self, after_ms: int, start_ms: int) -> int:
        period = self.minutes * 60_000
        if after_ms < start_ms:
            return start_ms
        return start_ms + ((after_ms - start_ms) // period + 1) * period

    def at_or_before(self, at_ms: int, start_ms: int) -> int | None:
        period = self.minutes * 60_000
        return start_ms + ((at_ms - start_ms) // period) * period if at_ms >= start_ms else None


@dataclass(frozen=True, slots=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    dom: str  # the day-of-month field as written (upper case), "?" when day-of-week rules
    dow: str
    dom_values: frozenset[int]
    dow_values: frozenset[int]

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        if self.dom != "?":
            return _dom_matches(self.dom, self.dom_values, day, last)
        return _dow_matches(self.dow, self.dow_values, day, last)

    def next_after(self, after_ms: int, zone: tzinfo = UTC) -> int | None:
        """The first time strictly after `after_ms` (whole minutes), None past year 2199."""
        local = datetime.fromtimestamp(after_ms / 1000, zone).replace(second=0, microsecond=0)
        start = local.replace(tzinfo=None) + timedelta(minutes=1)
        day = start.date()
        while day.year <= max(self.years):
            if self.day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        moment = datetime(day.year, day.month, day.day, hour, minute)
                        if moment >= start:
                            return _ms(moment, zone)
            day += timedelta(days=1)
        return None

    def at_or_before(self, at_ms: int, zone: tzinfo = UTC) -> int | None:
        """The latest time at or before `at_ms`, None before 1970 or the first year given."""
        end = datetime.fromtimestamp(at_ms / 1000, zone).replace(tzinfo=None)
        day = end.date()
        while day.year >= min(self.years):
            if self.day_matches(day):
                for hour in sorted(self.hours, reverse=True):
                    for minute in sorted(self.minutes, reverse=True):
                        moment = datetime(day.year, day.month, day.day, hour, minute)
                        if moment <= end:
                            return _ms(moment, zone)
            day -= timedelta(days=1)
        return None


def _ms(moment: datetime, zone: tzinfo) -> int:
    return int(moment.replace(tzinfo=zone).timestamp() * 1000)


def _aws_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Python's Monday=0 → EventBridge's SUN=1 … SAT=7


def _nearest_weekday(day: date, last: int) -> int:
    wd = day.weekday()
    if wd == 5:  # Saturday: the Friday before, unless that leaves the month
        return day.day - 1 if day.day > 1 else day.day + 2
    if wd == 6:  # Sunday: the Monday after, unless that leaves the month
        return day.day + 1 if day.day < last else day.day - 2
    return day.day


def _dom_matches(field: str, values: frozenset[int], day: date, last: int) -> bool:
    if field == "L":
        return day.day == last
    if field == "LW":
        return day.day == _nearest_weekday(day.replace(day=last), last)
    if field.endswith("W"):
        target = min(int(field[:-1]), last)
        return day.day == _nearest_weekday(day.replace(day=target), last)
    return day.day in values


def _dow_matches(field: str, values: frozenset[int], day: date, last: int) -> bool:
    weekday = _aws_weekday(day)
    if field.endswith("L") and field != "L":
        return weekday == _day_number(field[:-1]) and day.day + 7 > last
    if "#" in field:
        wanted, nth = field.split("#")
        return weekday == _day_number(wanted) and (day.day - 1) // 7 + 1 == int(nth)
    return weekday in values


def _day_number(token: str) -> int:
    return DAYS[token] if token in DAYS else int(token)


def _number(token: str, low: int, high: int, names: dict[str, int], what: str) -> int:
    if token in names:
        return names[token]
    if not token.isdigit():
        raise InvalidSchedule(f"'{token}' is not a valid {what}")
    value = int(token)
    if not low <= value <= high:
        raise InvalidSchedule(f"{what} {value} is out of range ({low}-{high})")
    return value


def _values(
    field: str, low: int, high: int, what: str, names: dict[str, int] | None = None
) -> frozenset[int]:
    """`*`, `a`, `a-b`, `*/s`, `a/s`, `a-b/s`, and comma-separated lists of those."""
    names = names or {}
    found: set[int] = set()
    for part in field.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise InvalidSchedule(f"'{part}' has an invalid increment for the {what}")
            step = int(step_text)
        if base == "*":
            first, final = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, final = _number(a, low, high, names, what), _number(b, low, high, names, what)
            if first > final:
                raise InvalidSchedule(f"the range '{base}' of the {what} runs backwards")
        else:
            first = _number(base, low, high, names, what)
            final = high if slash else first
        found.update(range(first, final + 1, step))
    return frozenset(found)


def _check_dom(field: str) -> frozenset[int]:
    if field in ("L", "LW"):
        return frozenset()
    if re.fullmatch(r"\d+W", field):
        _number(field[:-1], 1, 31, {}, "day of the month")
        return frozenset()
    if "L" in field or "W" in field:
        raise InvalidSchedule(f"'{field}' is not a valid day of the month (L, LW or nW alone)")
    return _values(field, 1, 31, "day of the month")


def _check_dow(field: str) -> frozenset[int]:
    if field == "L":
        return frozenset({7})  # alone, L is the last day of the week: Saturday
    if re.fullmatch(r"[A-Z0-9]+L", field):
        _number(field[:-1], 1, 7, DAYS, "day of the week")
        return frozenset()
    if "#" in field:
        if re.search(r"[,\-/]", field) or field.count("#") > 1:
            raise InvalidSchedule(
                f"'{field}' is not a valid day of the week (D#N alone: one day, one number)"
            )
        day, _, nth = field.partition("#")
        _number(day, 1, 7, DAYS, "day of the week")
        if nth not in ("1", "2", "3", "4", "5"):
            raise InvalidSchedule(f"'{field}': the number after # must be 1-5")
        return frozenset()
    if "/" in field:
        raise InvalidSchedule("the day of the week takes no increments (/)")
    return _values(field, 1, 7, "day of the week", DAYS)


def parse_cron(inner: str) -> Cron:
    fields = inner.upper().split()
    if len(fields) != 6:
        raise InvalidSchedule(
            "cron() takes six fields: Minutes Hours Day-of-month Month Day-of-week Year, "
            f"not {len(fields)}"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise InvalidSchedule(
            "exactly one of Day-of-month and Day-of-week must be '?' (they cannot both be "
            "given, nor both be '*')"
        )
    for name, value in (("Minutes", minutes), ("Hours", hours), ("Month", month), ("Year", year)):
        if "?" in value or "L" in value.replace("JUL", "") or "#" in value:
            raise InvalidSchedule(f"the {name} field takes no ?, L, W or #")
    return Cron(
        minutes=_values(minutes, 0, 59, "minute"),
        hours=_values(hours, 0, 23, "hour"),
        months=_values(month, 1, 12, "month", MONTHS),
        years=_values(year, *YEARS, "year"),
        dom=dom,
        dow=dow,
        dom_values=_check_dom(dom) if dom != "?" else frozenset(),
        dow_values=_check_dow(dow) if dow != "?" else frozenset(),
    )


def parse_rate(inner: str) -> Rate:
    match = _RATE.fullmatch(f"rate({inner.strip()})")
    if not match:
        raise InvalidSchedule("rate() takes a positive whole number and a unit: rate(5 minutes)")
    value, unit = int(match.group(1)), match.group(2).lower()
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _UNITS:
        raise InvalidSchedule(f"'{unit}' is not a rate unit (minute(s), hour(s) or day(s))")
    if value <= 0:
        raise InvalidSchedule("a rate must be greater than zero")
    if (value == 1) != (unit == singular):
        raise InvalidSchedule(
            f"rate({value} {unit}): the unit is singular for 1 and plural otherwise "
            f"(rate(1 {singular}), rate({max(value, 2)} {singular}s))"
        )
    return Rate(value * _UNITS[singular])


def parse(expression: str) -> Cron | Rate:
    """`cron(...)` or `rate(...)`, or InvalidSchedule saying what is wrong."""
    text = expression.strip()
    head, _, rest = text.partition("(")
    if not text.endswith(")") or head.lower() not in ("cron", "rate"):
        raise InvalidSchedule("an AWS schedule is cron(...) or rate(...)")
    inner = rest[:-1]
    return parse_cron(inner) if head.lower() == "cron" else parse_rate(inner)
