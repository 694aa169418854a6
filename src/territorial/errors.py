"""Every error Territorial raises on purpose, in one rooted tree.

::

    TerritorialError                 status 400  anything the user can fix
    ├── NotFound                     status 404  a model, territory, account... that does not exist
    ├── Conflict                     status 409  the request clashes with current state
    │   └── LifecycleError           status 409  a model state change that is not allowed
    ├── ValidationError              status 422  a value, rule or setting that is wrong
    │   ├── RuleError                status 422  a rule, item or boolean filter that is wrong
    │   ├── FormulaError             status 422  a measure formula that is wrong (names where)
    │   ├── InputFileError           status 422  a file that cannot be imported (every problem)
    │   └── CarveInfeasible          status 422  a carve whose constraints cannot all hold
    │                                            (core.carve; names the binding constraint)
    └── ConfigurationError           status 500  the installation itself is wrong (database URL...)

Each exception carries structured fields and builds its own message, which always says
how to fix the problem. Interfaces (CLI, API) translate them at the edge: the CLI prints
``str(error)`` on one line and exits non-zero, the API answers ``error_body(error)`` with
``error.status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TerritorialError(Exception):
    """Base of every error a user can act on."""

    status: int = 400
    code: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        """Structured form used by the one JSON error body."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class NotFound(TerritorialError):
    """A named thing does not exist."""

    status = 404
    code = "not_found"

    def __init__(
        self, kind: str, key: object, *, hint: str | None = None, message: str | None = None
    ) -> None:
        self.kind = kind
        self.key = key
        super().__init__(
            message or f"{kind} {key!r} not found.",
            hint=hint or f"Check the spelling; list existing ones with 'territorial {kind} list'.",
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "kind": self.kind, "key": str(self.key)}


class Conflict(TerritorialError):
    """The request clashes with the current state of the data."""

    status = 409
    code = "conflict"


class LifecycleError(Conflict):
    """A territory model cannot move to the requested state from the one it is in."""

    code = "lifecycle"


class ValidationError(TerritorialError):
    """A value, setting or request is malformed."""

    status = 422
    code = "invalid"


class RuleError(ValidationError):
    """A rule, rule item or boolean filter is wrong; names the rule and item."""

    code = "invalid_rule"

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        item: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.rule = rule
        self.item = item
        where = ""
        if rule is not None:
            where = f"Rule {rule!r}"
            if item is not None:
                where += f", item {item}"
            where += ": "
        super().__init__(where + message, hint=hint)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "rule": self.rule, "item": self.item}


class FormulaError(ValidationError):
    """A measure formula (``1 + number_of_employees / 1000``) is wrong; says what and where.

    ``position`` is the 1-based character of the formula where the problem is, when one
    can be blamed (past the last character: the formula ends too soon).

    >>> str(FormulaError("1 +* 2", "invalid syntax", position=4))
    "Formula '1 +* 2', at character 4 ('*'): invalid syntax."
    >>> str(FormulaError("1 +", "invalid syntax", position=4))
    "Formula '1 +', at the end: invalid syntax."

    ``option`` names the option the formula was given to, when there is one:

    >>> str(FormulaError("-annual_revenue", "3 accounts are below 0", option="--potential"))
    "--potential formula '-annual_revenue': 3 accounts are below 0."
    """

    code = "invalid_formula"

    def __init__(
        self,
        formula: str,
        message: str,
        *,
        position: int | None = None,
        option: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.formula = formula
        self.position = position
        self.option = option
        where = ""
        if position is not None and 0 < position <= len(formula):
            where = f", at character {position} ({formula[position - 1]!r})"
        elif position is not None:
            where = ", at the end"
        what = f"{option} formula" if option else "Formula"
        super().__init__(f"{what} {formula!r}{where}: {message}.", hint=hint)

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "formula": self.formula,
            "position": self.position,
            "option": self.option,
        }


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file: where it is and how to fix it."""

    message: str
    row: int | None = None
    """1-based line number in the file, counting the header as line 1."""
    column: str | None = None
    hint: str | None = None
    file: str | None = None
    """The file the problem is in, when one input spans many files (a metadata folder)."""

    def __str__(self) -> str:
        where = [self.file] if self.file is not None else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.message
        return f"{text} ({self.hint})" if self.hint else text


class InputFileError(ValidationError):
    """A file could not be read or imported. Lists every problem found; nothing was written."""

    code = "invalid_file"
    max_listed = 20

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[: self.max_listed])
        more = len(problems) - self.max_listed
        if more > 0:
            shown += f"; and {more} more"
        super().__init__(
            f"{path}: {shown}.",
            hint="Nothing was changed; fix the file and try again.",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "file": self.path,
            "problems": [
                {
                    "file": p.file,
                    "row": p.row,
                    "column": p.column,
                    "message": p.message,
                    "hint": p.hint,
                }
                for p in self.problems
            ],
        }


class ConfigurationError(TerritorialError):
    """The installation or its settings are wrong (for example the database URL)."""

    status = 500
    code = "configuration"


def error_body(error: TerritorialError) -> dict[str, Any]:
    """The one JSON error body every interface answers with.

    >>> error_body(NotFound("model", "FY27"))["error"]["code"]
    'not_found'
    """
    return {"error": {"status": error.status, **error.to_dict()}}


__all__ = [
    "ConfigurationError",
    "Conflict",
    "FormulaError",
    "InputFileError",
    "LifecycleError",
    "NotFound",
    "Problem",
    "RuleError",
    "TerritorialError",
    "ValidationError",
    "error_body",
]
