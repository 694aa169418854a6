"""Data Loader files that make Salesforce hold a model's assignments.

``export_dataloader_files`` reads a model's account, user and opportunity territories (and,
with ``against``, those of the model Salesforce holds now, to write only the difference)
and writes them as CSV files for Data Loader: inserts and deletes of
``ObjectTerritory2Association`` and ``UserTerritory2Association``, and ``Opportunity``
updates. The files' shapes are in ``territorial.io.salesforce.dataloader``; see
docs/salesforce.md for how to load them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from territorial.core.compare import assignment_delta
from territorial.errors import ValidationError
from territorial.io.salesforce import dataloader
from territorial.io.salesforce.metadata import OPPORTUNITY_FILTER
from territorial.services import lookup
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
_OPPORTUNITIES = (
    "SELECT o.id, t.developer_name FROM opportunity_territory ot "
    "JOIN opportunity o ON o.pk = ot.opportunity_pk "
    "LEFT JOIN territory t ON t.pk = ot.territory_pk WHERE ot.model_pk = {pk}"
)
_S = pl.String()
Shape = Callable[[pl.DataFrame, Mapping[str, str] | None], pl.DataFrame]
Step = tuple[str, str, pl.DataFrame, Shape]


def _frames(session: Session, model_pk: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    accounts = bulk.read_frame(
        session, _ACCOUNTS.format(pk=model_pk), {"account": _S, "territory": _S, "cause": _S}
    )
    # One association per account and territory; a manual one wins over a rule one.
    accounts = accounts.sort("cause").unique(["account", "territory"], keep="first")
    users = bulk.read_frame(
        session, _USERS.format(pk=model_pk), {"user": _S, "territory": _S, "role": _S}
    )
    opportunities = bulk.read_frame(
        session, _OPPORTUNITIES.format(pk=model_pk), {"opportunity": _S, "territory": _S}
    )
    return accounts, users, opportunities


def _opportunity_changes(before: pl.DataFrame | None, after: pl.DataFrame) -> pl.DataFrame:
    if before is None:
        return after.filter(pl.col("territory").is_not_null()).sort("opportunity")
    joined = after.join(before, on="opportunity", how="full", suffix="_before", coalesce=True)
    changed = joined.filter(pl.col("territory").ne_missing(pl.col("territory_before")))
    return changed.select("opportunity", "territory").sort("opportunity")


def export_dataloader_files(
    ws: Workspace,
    model: str,
    path: Path | str,
    *,
    against: str | None = None,
    id_map: Path | str | Mapping[str, str] | None = None,
    include_rule_assignments: bool = False,
    opportunities: bool | None = None,
) -> DataLoaderResult:
    """Write Data Loader CSV files that make Salesforce hold ``model``'s assignments.

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
    """
    ids = dataloader.read_id_map(id_map) if isinstance(id_map, str | Path) else id_map
    with ws.session() as session:
        row = lookup.model(session, model)
        after = _frames(session, row.pk)
        before = None
        if against is not None:
            before_row = lookup.model(session, against)
            before = _frames(session, before_row.pk)
        settings = dict(row.settings or {})
    if opportunities is None:
        opportunities = settings.get(OPPORTUNITY_FILTER) != "off"
    notes: list[str] = []
    acc_after, users_after, opps_after = after
    if before is None:
        inserts = acc_after
        deletes = acc_after.clear()
        user_ins, user_del = users_after, users_after.clear()
    else:
        inserts, deletes = assignment_delta(before[0], acc_after)
        user_ins, user_del = assignment_delta(
            before[1], users_after, keys=("user", "territory", "role")
        )
    opp_updates = _opportunity_changes(None if before is None else before[2], opps_after)
    if not include_rule_assignments:
        rule_ins = inserts.filter(pl.col("cause") == "rule").height
        rule_del = deletes.filter(pl.col("cause") == "rule").height
        inserts = inserts.filter(pl.col("cause") == "manual")
        deletes = deletes.filter(pl.col("cause") == "manual")
        if rule_ins or rule_del:
            notes.append(
                f"{rule_ins} rule assignments to add and {rule_del} to remove are left to "
                "Salesforce: deploy the metadata, then run the model's assignment rules there "
                "(or pass --include-rule-assignments to load them as manual ones)"
            )
    else:
        notes.append("rule assignments are written as Territory2Manual (the API inserts no others)")
    plan: list[Step] = [
        ("ObjectTerritory2Association", "insert", inserts, dataloader.object_associations),
        ("ObjectTerritory2Association", "delete", deletes, dataloader.object_associations),
        ("UserTerritory2Association", "insert", user_ins, dataloader.user_associations),
        ("UserTerritory2Association", "delete", user_del, dataloader.user_associations),
    ]
    if opportunities:
        plan.append(("Opportunity", "update", opp_updates, dataloader.opportunity_updates))
    else:
        notes.append(
            "no Opportunity file: the opportunity filter is off in this model's "
            "Territory2.settings (pass --opportunities to write it anyway)"
        )
    if ids is not None:
        missing = dataloader.missing_territories([p[2] for p in plan], ids)
        if missing:
            raise ValidationError(
                f"{len(missing)} territories are not in the id map: "
                + ", ".join(missing[:20])
                + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
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
    return DataLoaderResult(row.developer_name, against, tuple(files), tuple(notes))


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


__all__ = ["DataLoaderFile", "DataLoaderResult", "export_dataloader_files"]
