"""Developer (API) names: the unique, file-name-safe identifiers Salesforce uses."""

from __future__ import annotations

import re
import unicodedata

from territorial.errors import ValidationError

_VALID = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)")


def developer_name(label: str) -> str:
    """Derive a valid developer name from a label.

    Letters and digits are kept, everything else becomes one underscore; accents are
    dropped; a name that would start with a digit gets an ``X`` in front.

    >>> developer_name("FY27 West — Enterprise")
    'FY27_West_Enterprise'
    >>> developer_name("2027 plan")
    'X2027_plan'
    >>> developer_name("Zürich & Genève")
    'Zurich_Geneve'
    """
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_")
    if not name:
        return "X"
    if not name[0].isalpha():
        name = "X" + name
    return name[:80].rstrip("_")


def is_developer_name(name: str) -> bool:
    """Whether ``name`` is a valid developer name (Salesforce API name rules).

    >>> is_developer_name("NA_West"), is_developer_name("NA__West"), is_developer_name("1st")
    (True, False, False)
    """
    return len(name) <= 80 and _VALID.fullmatch(name) is not None


def require_developer_name(label: str, given: str | None = None) -> str:
    """``given``, or a name derived from ``label``, checked; ValidationError if invalid.

    >>> require_developer_name("West 3"), require_developer_name("x", "NA_West")
    ('West_3', 'NA_West')
    >>> require_developer_name("x", "NA__West")
    Traceback (most recent call last):
    ...
    territorial.errors.ValidationError: 'NA__West' is not a valid developer name. Use \
letters, digits and single underscores, starting with a letter (at most 80 characters).
    """
    name = given or developer_name(label)
    if not is_developer_name(name):
        raise ValidationError(
            f"{name!r} is not a valid developer name.",
            hint="Use letters, digits and single underscores, starting with a letter "
            "(at most 80 characters).",
        )
    return name


__all__ = ["developer_name", "is_developer_name", "require_developer_name"]
