"""Rule operators: their names, which field types accept them, and how values parse.

Decisions (DESIGN.md section 3), each one tested:

* Operator names are case-insensitive on input (``startswith`` == ``startsWith``); the
  canonical spelling is Salesforce's camelCase.
* A comma-separated value is a list; whitespace around each element is dropped and blank
  elements are ignored. A value with no non-blank element is an error.
* Textual fields (text, picklist, multi-picklist) accept ``equals``, ``notEqual``,
  ``contains``, ``notContain``, ``startsWith``; text and picklist also accept the four
  range operators, which compare lower-cased text (so postal code ``9`` > ``80000``).
  Only multi-picklists accept ``includes``/``excludes``.
* Number and date fields accept ``equals``, ``notEqual`` and the four range operators.
* Boolean fields accept ``equals`` and ``notEqual`` only; a range on true/false is
  meaningless and a substring test on a checkbox is almost always a mistake.
* ``within`` (``lat,lon,radius_km``) is written on the latitude or longitude field (or the
  pseudo-field ``BillingAddress``/``location``) and always uses both coordinates.
* Range operators and ``within`` take exactly one value: a list is an error.

>>> parse_operator("STARTSWITH")
<Operator.STARTS_WITH: 'startsWith'>
>>> split_values(" CA, nv ,,OR")
('CA', 'nv', 'OR')
"""

from __future__ import annotations

import math
import re
from datetime import date
from enum import StrEnum

from territorial.core.fields import FieldType


class Operator(StrEnum):
    """A rule item operator, spelled as in Salesforce metadata."""

    EQUALS = "equals"
    NOT_EQUAL = "notEqual"
    LESS_THAN = "lessThan"
    GREATER_THAN = "greaterThan"
    LESS_OR_EQUAL = "lessOrEqual"
    GREATER_OR_EQUAL = "greaterOrEqual"
    CONTAINS = "contains"
    NOT_CONTAIN = "notContain"
    STARTS_WITH = "startsWith"
    INCLUDES = "includes"
    EXCLUDES = "excludes"
    WITHIN = "within"

    @property
    def is_range(self) -> bool:
        """True for the four ordering comparisons."""
        return self in RANGE_OPERATORS

    @property
    def is_negative(self) -> bool:
        """True when a list matches only if NO element matches."""
        return self in NEGATIVE_OPERATORS


RANGE_OPERATORS = frozenset(
    {
        Operator.LESS_THAN,
        Operator.GREATER_THAN,
        Operator.LESS_OR_EQUAL,
        Operator.GREATER_OR_EQUAL,
    }
)
NEGATIVE_OPERATORS = frozenset({Operator.NOT_EQUAL, Operator.NOT_CONTAIN, Operator.EXCLUDES})

_BY_LOWER = {op.value.lower(): op for op in Operator}
# Extra spellings seen in exports and hand-written rules.
_ALIASES = {
    "notequals": Operator.NOT_EQUAL,
    "notcontains": Operator.NOT_CONTAIN,
    "startswith": Operator.STARTS_WITH,
    "lessthanorequal": Operator.LESS_OR_EQUAL,
    "greaterthanorequal": Operator.GREATER_OR_EQUAL,
}

_TEXT_OPS = frozenset(
    {
        Operator.EQUALS,
        Operator.NOT_EQUAL,
        Operator.CONTAINS,
        Operator.NOT_CONTAIN,
        Operator.STARTS_WITH,
    }
)
_ORDERED_OPS = frozenset({Operator.EQUALS, Operator.NOT_EQUAL}) | RANGE_OPERATORS

ALLOWED: dict[FieldType, frozenset[Operator]] = {
    FieldType.TEXT: _TEXT_OPS | RANGE_OPERATORS,
    FieldType.PICKLIST: _TEXT_OPS | RANGE_OPERATORS,
    FieldType.MULTIPICKLIST: _TEXT_OPS | {Operator.INCLUDES, Operator.EXCLUDES},
    FieldType.NUMBER: _ORDERED_OPS,
    FieldType.DATE: _ORDERED_OPS,
    FieldType.BOOLEAN: frozenset({Operator.EQUALS, Operator.NOT_EQUAL}),
}

TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_operator(name: str) -> Operator | None:
    """The operator a user-written name means, ignoring case; None when unknown.

    >>> parse_operator("notequal"), parse_operator("NotContains"), parse_operator("like")
    (<Operator.NOT_EQUAL: 'notEqual'>, <Operator.NOT_CONTAIN: 'notContain'>, None)
    """
    key = re.sub(r"[\s_]", "", name).lower()
    return _BY_LOWER.get(key) or _ALIASES.get(key)


def split_values(value: str) -> tuple[str, ...]:
    """Split a rule value on commas, trimming each element and dropping blank ones.

    >>> split_values("94105")
    ('94105',)
    >>> split_values("  ")
    ()
    """
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_number(text: str) -> float:
    """A finite number; raises ValueError otherwise.

    >>> parse_number("1e6"), parse_number("-2.5")
    (1000000.0, -2.5)
    """
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a finite number")
    return number


def parse_date(text: str) -> date:
    """An ISO ``yyyy-mm-dd`` date; raises ValueError otherwise.

    >>> parse_date("2026-02-01")
    datetime.date(2026, 2, 1)
    """
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date written yyyy-mm-dd")
    return date.fromisoformat(text)


def parse_boolean(text: str) -> bool:
    """``true/false/1/0/yes/no`` in any case; raises ValueError otherwise.

    >>> parse_boolean("Yes"), parse_boolean("0")
    (True, False)
    """
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not true/false/1/0/yes/no")


def parse_within(value: str) -> tuple[float, float, float]:
    """A ``lat,lon,radius_km`` triple; raises ValueError otherwise.

    >>> parse_within("37.77, -122.42, 50")
    (37.77, -122.42, 50.0)
    """
    parts = split_values(value)
    if len(parts) != 3:
        raise ValueError(f"{value!r} is not lat,lon,radius_km")
    lat, lon, radius = (parse_number(p) for p in parts)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and radius >= 0):
        raise ValueError(f"{value!r} has a latitude, longitude or radius out of range")
    return lat, lon, radius


EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres (mean Earth radius).

    >>> round(great_circle_km(37.7749, -122.4194, 34.0522, -118.2437))
    559
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2) - math.radians(lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


__all__ = [
    "ALLOWED",
    "EARTH_RADIUS_KM",
    "NEGATIVE_OPERATORS",
    "RANGE_OPERATORS",
    "Operator",
    "great_circle_km",
    "parse_boolean",
    "parse_date",
    "parse_number",
    "parse_operator",
    "parse_within",
    "split_values",
]
