"""Data Loader files that make Salesforce hold a model's assignments and exclusions.

``export_dataloader_files`` reads a model's account, user and opportunity territories and
its exclusions (and, with ``against``, those of the model Salesforce holds now, to write
only the difference) and writes them as CSV files for Data Loader: inserts and deletes of
``ObjectTerritory2Association``, ``UserTerritory2Association`` and
``Territory2ObjectExclusion``, and ``Opportunity`` updates. The files' shapes are in
``territorial.io.salesforce.dataloader``; see docs/salesforce.md for how to load them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from territorial.core.compare import assignment_delta
from territorial.core.text import plural
from territorial.errors import ValidationError
from territorial.io.salesforce import dataloader
from territorial.io.salesforce.metadata import OPPORTUNITY_FILTER
from territorial.services import lookup
from territorial.services.opportunities import OpportunityDelta, territory_delta
from territorial.services.workspace import Workspace
from territorial.store import bulk


@dataclass(frozen=True)
class DataLoaderFile:
    """One file written: its path, the object and operation it is for, and its rows."""

    path: str
    object: str
    operation: str
    rows: int


@dataclass(frozen=True)
class DataLoaderResult:
    """What ``export_dataloader_files`` wrote, and what the user should know about it."""

    model: str
    against: str | None
    files: tuple[DataLoaderFile, ...]
    notes: tuple[str, ...] = field(default=())
    accounts_added: int = 0
    """Account assignments to add: written, or (rule ones, by default) left to Salesforce."""
    accounts_removed: int = 0
    rule_accounts_added: int = 0
    """Of ``accounts_added``, the rule assignments left to Salesforce's rule run."""
    rule_accounts_removed: int = 0
    users_added: int = 0
    users_removed: int = 0
    exclusions_added: int = 0
    """Territory2ObjectExclusion rows to insert (accounts kept out of a territory's rules)."""
    exclusions_removed: int = 0
    opportunities: OpportunityDelta | None = None
    """The opportunity territory changes written (None: no Opportunity file)."""

    def counts(self) -> dict[str, int]:
        """The numbers, keyed as reports show them."""
        counts = {
            "accounts_added": self.accounts_added,
            "accounts_removed": self.accounts_removed,
            "rule_accounts_added": self.rule_accounts_added,
            "rule_accounts_removed": self.rule_accounts_removed,
            "users_added": self.users_added,
            "users_removed": self.users_removed,
            "exclusions_added": self.exclusions_added,
            "exclusions_removed": self.exclusions_removed,
        }
        if self.opportunities is not None:
            counts |= self.opportunities.counts()
        return counts

    def summary(self) -> str:
        """One sentence: what loading the files changes in Salesforce."""
        text = (
            f"{self.model}"
            + (f" against {self.against}" if self.against else " (every row an insert)")
            + f": {self.accounts_added:,} account assignments added and "
            f"{self.accounts_removed:,} removed"
        )
        if self.rule_accounts_added or self.rule_accounts_removed:
            text += (
                f" ({self.rule_accounts_added:,} added and {self.rule_accounts_removed:,} "
                "removed by rules, left to Salesforce's rule run)"
            )
        text += (
            f"; {self.users_added:,} user assignments added and {self.users_removed:,} removed; "
            f"{self.exclusions_added:,} exclusions added and {self.exclusions_removed:,} removed; "
        )
        if self.opportunities is None:
            return text + "no Opportunity file."
        return text + self.opportunities.summary() + "."


_ACCOUNTS = (
    "SELECT a.id, t.developer_name, aa.cause FROM account_assignment aa "
    "JOIN account a ON a.pk = aa.account_pk JOIN territory t ON t.pk = aa.territory_pk "
    "WHERE aa.model_pk = {pk}"
)
_USERS = (
    "SELECT u.id, t.developer_name, ua.role FROM user_assignment ua "
    "JOIN sales_user u ON u.pk = ua.user_pk JOIN territory t ON t.pk = ua.territory_pk "
    "WHERE t.model_pk = {pk}"
)
_EXCLUSIONS = (
    "SELECT a.id, t.developer_name FROM exclusion e "
    "JOIN account a ON a.pk = e.account_pk JOIN territory t ON t.pk = e.territory_pk "
    "WHERE t.model_pk = {pk}"
)
_S = pl.String()
Shape = Callable[[pl.DataFrame, Mapping[str, str] | None], pl.DataFrame]
Step = tuple[str, str, pl.DataFrame, Shape]


def _accounts(session: Session, model_pk: int) -> pl.DataFrame:
    """``account`` (id), ``territory`` (developer name), ``cause``: one row per account and
    territory of the model (a manual assignment wins over a rule one)."""
    accounts = bulk.read_frame(
        session, _ACCOUNTS.format(pk=model_pk), {"account": _S, "territory": _S, "cause": _S}
    )
    return accounts.sort("cause").unique(["account", "territory"], keep="first")


def _exclusions(session: Session, model_pk: int) -> pl.DataFrame:
    """``account`` (id), ``territory`` (developer name): the model's exclusions."""
    return bulk.read_frame(
        session, _EXCLUSIONS.format(pk=model_pk), {"account": _S, "territory": _S}
    ).sort("account", "territory")


def _users(session: Session, model_pk: int) -> pl.DataFrame:
    return bulk.read_frame(
        session, _USERS.format(pk=model_pk), {"user": _S, "territory": _S, "role": _S}
    )


def export_dataloader_files(
    ws: Workspace,
    model: str,
    path: Path | str,
    *,
    against: str | None = None,
    id_map: Path | str | Mapping[str, str] | None = None,
    include_rule_assignments: bool = False,
    opportunities: bool | None = None,
    include_closed: bool = False,
) -> DataLoaderResult:
    """Write Data Loader CSV files that make Salesforce hold ``model``'s assignments and
    exclusions.

    Parameters
    ----------
    against
        The model Salesforce holds now: only the difference is written (rows to insert,
        rows to delete, opportunities to update). Without it every row is an insert.
    id_map
        Territory developer name → Territory2Id (a CSV of ``Id``, ``DeveloperName``):
        files keyed by ``Territory2Id`` are written besides the ones by developer name.
    include_rule_assignments
        Also write rule-caused account assignments (as ``Territory2Manual``). By default
        only manual ones are written: Salesforce's own rule run recreates the others.
    opportunities
        Write the Opportunity update file; default: unless the model's imported
        ``Territory2.settings`` had the opportunity filter switched off.
    include_closed
        Update closed opportunities too. By default only open ones are written, as
        activation assigns them; excluded ones (``excluded_from_territory_filter``) never.
        The territories written are those activation set (the active model) or would set
        (any other model); see ``services.opportunities.territory_delta``.
    """
    ids = dataloader.read_id_map(id_map) if isinstance(id_map, str | Path) else id_map
    with ws.session() as session:
        row = lookup.model(session, model)
        before_row = lookup.model(session, against) if against is not None else None
        settings = dict(row.settings or {})
        if opportunities is None:
            opportunities = settings.get(OPPORTUNITY_FILTER) != "off"
        acc_after, users_after = _accounts(session, row.pk), _users(session, row.pk)
        excl_after = _exclusions(session, row.pk)
        if before_row is None:
            inserts, deletes = acc_after, acc_after.clear()
            user_ins, user_del = users_after, users_after.clear()
            excl_ins, excl_del = excl_after, excl_after.clear()
        else:
            # Without rule assignments, an account that a rule held and a manual assignment
            # now holds in the same territory needs its manual row (Salesforce's rule run
            # will drop the rule one), so the cause is part of what identifies a row.
            keys = ("account", "territory") if include_rule_assignments else (
                "account", "territory", "cause"
            )  # fmt: skip
            inserts, deletes = assignment_delta(
                _accounts(session, before_row.pk), acc_after, keys=keys
            )
            user_ins, user_del = assignment_delta(
                _users(session, before_row.pk), users_after, keys=("user", "territory", "role")
            )
            excl_ins, excl_del = assignment_delta(
                _exclusions(session, before_row.pk), excl_after, keys=("account", "territory")
            )
        delta = (
            territory_delta(session, row, before_row, include_closed=include_closed)
            if opportunities
            else None
        )
    notes: list[str] = []
    if excl_ins.height:
        notes.append(
            f"load the {plural(excl_ins.height, 'Territory2ObjectExclusion row')} (accounts "
            "kept out of a territory's rules) before running the model's assignment rules in "
            "Salesforce, so the rule run leaves those accounts out of those territories"
        )
    accounts_added, accounts_removed = inserts.height, deletes.height
    rule_ins = rule_del = 0
    if not include_rule_assignments:
        rule_ins = inserts.filter(pl.col("cause") == "rule").height
        rule_del = deletes.filter(pl.col("cause") == "rule").height
        inserts = inserts.filter(pl.col("cause") == "manual")
        deletes = deletes.filter(pl.col("cause") == "manual")
        if rule_ins or rule_del:
            notes.append(
                f"{plural(rule_ins, 'rule assignment')} to add and {rule_del:,} to remove are "
                "left to Salesforce: deploy the metadata, then run the model's assignment rules "
                "there (or pass --include-rule-assignments to load them as manual ones)"
            )
    else:
        notes.append("rule assignments are written as Territory2Manual (the API inserts no others)")
    plan: list[Step] = [
        ("ObjectTerritory2Association", "insert", inserts, dataloader.object_associations),
        ("ObjectTerritory2Association", "delete", deletes, dataloader.object_associations),
        ("UserTerritory2Association", "insert", user_ins, dataloader.user_associations),
        ("UserTerritory2Association", "delete", user_del, dataloader.user_associations),
        ("Territory2ObjectExclusion", "insert", excl_ins, dataloader.object_exclusions),
        ("Territory2ObjectExclusion", "delete", excl_del, dataloader.object_exclusions),
    ]
    if delta is not None:
        updates = delta.changes.select("opportunity", "territory")
        plan.append(("Opportunity", "update", updates, dataloader.opportunity_updates))
        notes += _opportunity_notes(delta)
    else:
        notes.append(
            "no Opportunity file: the opportunity filter is off in this model's "
            "Territory2.settings (pass --opportunities to write it anyway)"
        )
    if ids is not None:
        missing = dataloader.missing_territories([p[2] for p in plan], ids)
        if missing:
            raise ValidationError(
                f"{plural(len(missing), 'territory', 'territories')} "
                f"{'is' if len(missing) == 1 else 'are'} not in the id map: "
                + ", ".join(missing[:20])
                + (f" and {len(missing) - 20:,} more" if len(missing) > 20 else "")
                + ".",
                hint="Deploy the metadata first, then export SELECT Id, DeveloperName FROM "
                "Territory2 WHERE Territory2ModelId = '...' again.",
            )
    if any(p[1] == "delete" and p[2].height for p in plan):
        notes.append(
            "Data Loader deletes by record Id: look up the Ids of the rows in the delete "
            "files (see docs/salesforce.md) before running the delete"
        )
    files = _write_plan(Path(path), plan, ids)
    stale = _remove_stale(Path(path), files)
    if stale:
        notes.append(
            f"removed {plural(len(stale), 'Data Loader file')} of an earlier export that this "
            f"one does not write ({', '.join(stale)}), so no stale rows get loaded"
        )
    return DataLoaderResult(
        row.developer_name,
        against,
        tuple(files),
        tuple(notes),
        accounts_added=accounts_added,
        accounts_removed=accounts_removed,
        rule_accounts_added=rule_ins,
        rule_accounts_removed=rule_del,
        users_added=user_ins.height,
        users_removed=user_del.height,
        exclusions_added=excl_ins.height,
        exclusions_removed=excl_del.height,
        opportunities=delta,
    )


_WHY_NONE = {
    "tie": "the account's top territories tie on type priority (Salesforce's default filter "
    "leaves a tie without a territory too)",
    "account in no territory": "the account is in no territory of the model",
    "not assigned": "the active model has not assigned them since their account's "
    "territories changed (run 'territorial opportunities assign')",
}


def _opportunity_notes(delta: OpportunityDelta) -> list[str]:
    notes = []
    cleared = delta.changes.filter(pl.col("change") == "cleared")
    if cleared.height:
        reasons = cleared.group_by("reason").len().sort("len", descending=True)
        why = "; ".join(f"{n:,} because {_WHY_NONE[r]}" for r, n in reasons.iter_rows())
        notes.append(
            f"{cleared.height:,} Opportunity rows clear the territory (an empty territory "
            f"cell): {why}. Turn on Data Loader's 'Insert null values' so the empty cells "
            "clear, or delete those rows to keep the current territories"
        )
    kept = delta.without_territory - delta.cleared
    if kept and delta.against is None:
        notes.append(
            f"{kept:,} opportunities in scope get no territory ({delta.ties:,} by a priority "
            "tie) and have no row: Salesforce keeps what they have"
        )
    if delta.closed_skipped:
        notes.append(
            f"pass --include-closed to update the {delta.closed_skipped:,} closed opportunities too"
        )
    return notes


def _write_plan(
    folder: Path, plan: list[Step], ids: Mapping[str, str] | None
) -> list[DataLoaderFile]:
    written: list[DataLoaderFile] = []
    for obj, operation, frame, shape in plan:
        variants: list[tuple[str, Mapping[str, str] | None]] = [
            (f"{obj}-{operation}-by-name", None)
        ]
        if ids is not None:
            variants.insert(0, (f"{obj}-{operation}", ids))
        for stem, mapping in variants:
            out = shape(frame, mapping)
            target = folder / f"{stem}.csv"
            dataloader.write_csv(out, target)
            written.append(DataLoaderFile(str(target), obj, operation, out.height))
    return written


_OWN_FILE = re.compile(
    r"(ObjectTerritory2Association|UserTerritory2Association|Territory2ObjectExclusion"
    r"|Opportunity)"
    r"-(insert|delete|update)(-by-name)?\.csv"
)


def _remove_stale(folder: Path, written: list[DataLoaderFile]) -> list[str]:
    """Delete the Data Loader files of an earlier export into ``folder`` that this one did
    not write (other files are left alone); returns their names."""
    kept = {Path(f.path).name for f in written}
    stale = sorted(
        p.name for p in folder.glob("*.csv") if _OWN_FILE.fullmatch(p.name) and p.name not in kept
    )
    for name in stale:
        (folder / name).unlink()
    return stale


__all__ = ["DataLoaderFile", "DataLoaderResult", "export_dataloader_files"]
