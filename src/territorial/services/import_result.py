"""What an import did: :class:`ImportResult`, its one-line summary and warnings, and the
one audit entry every import writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from territorial.core.fields import Field
from territorial.core.text import plural
from territorial.services import audit
from territorial.services.workspace import Workspace


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    kind: str
    path: str
    rows: int
    inserted: int
    updated: int
    """Existing records whose values really changed."""
    created_fields: tuple[Field, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    unknown_columns: tuple[str, ...] = ()
    """Unknown columns skipped on request (``ignore_unknown``)."""
    skipped: int = 0
    """Rows deliberately not imported (rule-caused assignments)."""
    assigned_in: str | None = None
    """The active model the imported records were assigned in at once, if any."""
    assignments_added: int = 0
    """Accounts: rule assignments added. Opportunities: newly given a territory."""
    assignments_removed: int = 0
    """Accounts: rule assignments removed. Opportunities: left without a territory."""
    assignments_moved: int = 0
    """Opportunities moved to another territory."""
    without_territory: int = 0
    """Opportunities imported (new or changed, open) that have no territory afterwards."""
    opportunities_changed: int = 0
    """Accounts: open opportunities of the accounts whose territories changed that got
    another territory (or lost theirs)."""

    @property
    def unchanged(self) -> int:
        """Rows that matched a stored record with the same values (not rewritten)."""
        return self.rows - self.inserted - self.updated - self.skipped

    @property
    def warnings(self) -> tuple[str, ...]:
        """What people should know although the import succeeded (one line each).

        >>> result = ImportResult("user", "u.csv", 1, 1, 0, unknown_columns=("IsActive", "Ext"))
        >>> print(*result.warnings)  # doctest: +NORMALIZE_WHITESPACE
        ignored 2 unknown columns of u.csv: 'IsActive', 'Ext' (their values were not
        imported; use --create-fields to keep them as custom fields)
        """
        if not self.unknown_columns:
            return ()
        n = len(self.unknown_columns)
        names = ", ".join(repr(c) for c in self.unknown_columns)
        return (
            f"ignored {n} unknown column{'s' if n > 1 else ''} of {self.path}: {names} "
            f"({'their' if n > 1 else 'its'} values were not imported; use --create-fields "
            f"to keep {'them as custom fields' if n > 1 else 'it as a custom field'})",
        )

    def summary(self) -> str:
        """One line for people.

        >>> ImportResult("account", "a.csv", 25204, 2, 1).summary()
        'a.csv: 25,204 account rows, 2 inserted, 1 updated, 25,201 unchanged.'
        >>> ImportResult("user", "u.csv", 1, 1, 0).summary()
        'u.csv: 1 user row, 1 inserted, 0 updated, 0 unchanged.'
        """
        text = f"{self.path}: {plural(self.rows, f'{self.kind} row')}, "
        text += f"{self.inserted:,} inserted, {self.updated:,} updated, "
        text += f"{self.unchanged:,} unchanged"
        if self.skipped:
            text += f", {self.skipped:,} skipped"
        if self.created_fields:
            made = ", ".join(f"{f.name} ({f.type.value})" for f in self.created_fields)
            text += f"; new fields: {made}"
        if self.ignored_columns:
            text += f"; ignored columns: {', '.join(self.ignored_columns)}"
        if self.assigned_in and self.kind == "opportunity":
            text += (
                f"; territories in {self.assigned_in}: {self.assignments_added:,} newly "
                f"assigned, {self.assignments_moved:,} moved, {self.assignments_removed:,} "
                "unassigned"
            )
            if self.without_territory:
                text += (
                    f"; {self.without_territory:,} open opportunit"
                    f"{'y has' if self.without_territory == 1 else 'ies have'} no territory "
                    "(their account is in none: 'territorial report unassigned')"
                )
        elif self.assigned_in:
            text += (
                f"; assigned in {self.assigned_in}: {self.assignments_added:,} added, "
                f"{self.assignments_removed:,} removed; "
                f"{plural(self.opportunities_changed, 'open opportunity', 'open opportunities')}"
                " changed territory"
            )
        return text + "."


def audit_import(
    session: Session, ws: Workspace, result: ImportResult, model_pk: int | None = None
) -> None:
    audit.record(
        session,
        actor=ws.actor,
        action="import",
        entity=result.kind,
        key=Path(result.path).name,
        model_pk=model_pk,
        after={
            "file": result.path,
            "rows": result.rows,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": result.skipped,
            "created_fields": [f.name for f in result.created_fields],
            "ignored_unknown_columns": list(result.unknown_columns),
        },
    )


__all__ = ["ImportResult", "audit_import"]
