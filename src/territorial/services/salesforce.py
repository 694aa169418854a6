"""Salesforce interoperability: import and export Territory2 metadata.

An import reads a whole metadata folder, lists every problem at once (bad XML, missing
elements, unknown operators, fields the account catalog lacks, rule errors), and writes the
model — with any custom fields it had to declare — in one transaction: nothing is
half-imported. See docs/salesforce.md for what we reproduce of Salesforce and what not.
Data Loader files of a model's assignments are written by ``services.dataloader``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from territorial.core.fields import Field, FieldCatalog, FieldType, is_valid_custom_name
from territorial.core.fields import strip_object_prefix as bare
from territorial.core.model import ModelSpec, Rule, RuleItem
from territorial.core.naming import developer_name as to_developer_name
from territorial.core.rules.compile import validate_rules
from territorial.core.rules.operators import (
    RANGE_OPERATORS,
    Operator,
    parse_number,
    parse_operator,
    split_values,
)
from territorial.core.text import plural
from territorial.errors import Conflict, ValidationError
from territorial.io.salesforce.metadata import Layout, read_metadata
from territorial.io.salesforce.writer import SFDX_SOURCE, export_warnings, write_metadata
from territorial.services import fields, lookup
from territorial.services.models import ModelInfo
from territorial.services.specs import read_spec, write_spec
from territorial.services.workspace import Workspace
from territorial.store import frames
from territorial.store.schema import TerritoryModelRow, TerritoryTypeRow


@dataclass(frozen=True)
class SalesforceImport:
    """What ``import_salesforce_metadata`` read and created."""

    model: ModelInfo
    layout: str
    folder: str
    files: int
    types: int
    territories: int
    rules: int
    rule_items: int
    associations: int
    seconds: float
    created_fields: tuple[Field, ...] = ()
    mapped_fields: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        text = (
            f"Imported {self.model.developer_name} from {self.folder} ({self.layout}, "
            f"{plural(self.files, 'file')}): {plural(self.types, 'type')}, "
            f"{plural(self.territories, 'territory', 'territories')}, "
            f"{plural(self.rules, 'rule')} with {plural(self.rule_items, 'item')}, "
            f"{plural(self.associations, 'rule association')} in {self.seconds:.2f} s"
        )
        if self.created_fields:
            made = ", ".join(f"{f.name} ({f.type.value})" for f in self.created_fields)
            text += f"; new fields: {made}"
        if self.mapped_fields:
            text += "; mapped fields: " + ", ".join(f"{a} -> {b}" for a, b in self.mapped_fields)
        return text + "."


@dataclass(frozen=True)
class SalesforceExport:
    """What ``export_salesforce_metadata`` wrote."""

    model: str
    layout: str
    folder: str
    files: int
    warnings: tuple[str, ...] = ()
    removed: int = 0

    def summary(self) -> str:
        deploy = (
            f"sf project deploy start --metadata-dir {self.folder}"
            if self.layout == "mdapi"
            else f"cd {self.folder} && sf project deploy start --manifest manifest/package.xml"
        )
        removed = f", {self.removed} stale files removed" if self.removed else ""
        return (
            f"Wrote {self.files} files of {self.model} to {self.folder} ({self.layout}{removed}). "
            f"Deploy with: {deploy}"
        )


# ---------------------------------------------------------------------------------------------
# Import


def parse_field_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["Old__c=new_name", ...]`` as a dict; the old name may carry ``Account.``.

    >>> parse_field_map(["Account.Old__c=Tier__c"])
    {'old__c': 'Tier__c'}
    """
    result: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValidationError(
                f"--map-field {pair!r} is not OLD=NEW.",
                hint="Write e.g. --map-field Region__c=Sales_Region__c.",
            )
        result[bare(old).lower()] = bare(new)
    return result


def _map_fields(spec: ModelSpec, mapping: Mapping[str, str]) -> list[tuple[str, str]]:
    used: dict[str, str] = {}

    def rename(item: RuleItem) -> RuleItem:
        target = mapping.get(bare(item.field).lower())
        if target is None:
            return item
        used[item.field] = target
        return replace(item, field=target)

    spec.rules = [replace(r, items=tuple(rename(i) for i in r.items)) for r in spec.rules]
    return sorted(used.items())


def _unknown_fields(
    spec: ModelSpec, catalog: FieldCatalog
) -> dict[str, list[tuple[Rule, RuleItem]]]:
    unknown: dict[str, list[tuple[Rule, RuleItem]]] = {}
    for rule in spec.rules:
        for item in rule.items:
            if parse_operator(item.operator) is Operator.WITHIN:
                continue
            if catalog.resolve(item.field) is None:
                unknown.setdefault(bare(item.field), []).append((rule, item))
    return unknown


def infer_field_type(items: Sequence[RuleItem]) -> FieldType:
    """The type a new custom field gets from the rule items that use it.

    ``includes``/``excludes`` make a multi-picklist; true/false values with
    ``equals``/``notEqual`` a checkbox; range operators on numbers a number, on
    ``yyyy-mm-dd`` dates a date; anything else is text.

    >>> infer_field_type([RuleItem(1, "Band__c", "greaterThan", "100")])
    <FieldType.NUMBER: 'number'>
    >>> infer_field_type([RuleItem(1, "Zip__c", "startsWith", "940,941")])
    <FieldType.TEXT: 'text'>
    """
    ops = {parse_operator(i.operator) for i in items}
    values = [v for i in items for v in split_values(i.value)]
    if ops & {Operator.INCLUDES, Operator.EXCLUDES}:
        return FieldType.MULTIPICKLIST
    if not values:
        return FieldType.TEXT
    if ops <= {Operator.EQUALS, Operator.NOT_EQUAL} and all(
        v.lower() in ("true", "false") for v in values
    ):
        return FieldType.BOOLEAN
    if ops & RANGE_OPERATORS:
        if all(_is_number(v) for v in values):
            return FieldType.NUMBER
        if all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values):
            return FieldType.DATE
    return FieldType.TEXT


def _is_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def _unknown_error(unknown: dict[str, list[tuple[Rule, RuleItem]]]) -> ValidationError:
    parts = []
    for name, uses in sorted(unknown.items(), key=lambda kv: kv[0].lower()):
        rules = sorted({r.developer_name for r, _ in uses})
        shown = ", ".join(rules[:3]) + (f" and {len(rules) - 3} more" if len(rules) > 3 else "")
        parts.append(f"{name} ({len(uses)} items in {shown})")
    return ValidationError(
        f"{len(unknown)} fields used by rules are not in the account catalog: "
        + "; ".join(parts)
        + ".",
        hint="Map each to an existing field with --map-field OLD=NEW, declare them with "
        "--create-fields (types inferred from the rules) or 'territorial field add', "
        "then import again. Nothing was imported.",
    )


def _create_fields(
    session: Session, unknown: dict[str, list[tuple[Rule, RuleItem]]], actor: str
) -> list[Field]:
    bad = [name for name in unknown if not is_valid_custom_name(name)]
    if bad:
        raise ValidationError(
            f"Cannot declare fields with these names: {', '.join(sorted(bad))}.",
            hint="Map them to valid names with --map-field OLD=NEW.",
        )
    return [
        fields.create_field(
            session,
            "account",
            name,
            infer_field_type([item for _, item in uses]),
            actor=actor,
            label=name,
        )
        for name, uses in sorted(unknown.items(), key=lambda kv: kv[0].lower())
    ]


def _type_warnings(session: Session, spec: ModelSpec) -> list[str]:
    existing = {t.developer_name.lower(): t for t in session.scalars(select(TerritoryTypeRow))}
    return [
        f"type {t.developer_name} already exists with priority {row.priority} (the file says "
        f"{t.priority}); the existing type is used"
        for t in spec.types
        if (row := existing.get(t.developer_name.lower())) is not None
        and row.priority != t.priority
    ]


def _check_name(session: Session, spec: ModelSpec, renamed: bool) -> None:
    taken = session.scalar(
        select(TerritoryModelRow.developer_name).where(
            func.lower(TerritoryModelRow.developer_name) == spec.developer_name.lower()
        )
    )
    if taken is not None:
        raise Conflict(
            f"A model with developer name {taken!r} already exists.",
            hint='Import under another name with --name "NEW NAME"'
            + ("" if not renamed else ", or delete the existing model")
            + ".",
        )


def import_salesforce_metadata(
    ws: Workspace,
    path: Path | str,
    *,
    name: str | None = None,
    model: str | None = None,
    map_fields: Mapping[str, str] | Sequence[str] | None = None,
    create_fields: bool = False,
) -> SalesforceImport:
    """Create a planning model from a Territory2 metadata folder (sfdx or mdapi layout).

    Parameters
    ----------
    path
        The metadata folder (``force-app/main/default``, an unzipped mdapi retrieve) or a
        folder above it, such as an sfdx project root (see
        :func:`territorial.io.salesforce.locate.locate_metadata`).
    name
        Label of the new model (its developer name follows); default: the metadata's.
    model
        Which model to read when the folder holds several (developer name).
    map_fields
        Rule fields to rename, ``{"Old__c": "new_name"}`` or ``["Old__c=new_name"]``.
    create_fields
        Declare fields the catalog lacks as custom account fields, typed from the rules.
    """
    started = time.perf_counter()
    read = read_metadata(path, model=model)
    spec = read.spec
    if name:
        spec.name = name
        spec.developer_name = to_developer_name(name)
    if map_fields is None:
        mapping: dict[str, str] = {}
    elif isinstance(map_fields, Mapping):
        mapping = {bare(k).lower(): bare(v) for k, v in map_fields.items()}
    else:
        mapping = parse_field_map(map_fields)
    mapped = _map_fields(spec, mapping)
    warnings = list(read.warnings)
    with ws.session() as session:
        _check_name(session, spec, bool(name))
        catalog = fields.catalog(session, "account")
        unknown = _unknown_fields(spec, catalog)
        created: list[Field] = []
        if unknown and not create_fields:
            raise _unknown_error(unknown)
        if unknown:
            created = _create_fields(session, unknown, ws.actor)
            catalog = fields.catalog(session, "account")
        validate_rules([r for r in spec.rules if r.active], catalog).raise_errors()
        inactive = validate_rules([r for r in spec.rules if not r.active], catalog)
        warnings += [f"inactive rule with a problem: {e}" for e in inactive.errors]
        warnings += _type_warnings(session, spec)
        info = write_spec(session, spec, actor=ws.actor)
    return SalesforceImport(
        model=info,
        layout=read.layout,
        folder=str(read.root),
        files=read.files,
        types=len(spec.types),
        territories=len(spec.territories),
        rules=len(spec.rules),
        rule_items=sum(len(r.items) for r in spec.rules),
        associations=len(spec.associations),
        seconds=time.perf_counter() - started,
        created_fields=tuple(created),
        mapped_fields=tuple(mapped),
        warnings=tuple(warnings),
    )


# ---------------------------------------------------------------------------------------------
# Export


def _stale_files(base: Path, layout: Layout, model: str, written: set[Path]) -> list[Path]:
    folder = base / (SFDX_SOURCE if layout == "sfdx" else "") / "territory2Models" / model
    if not folder.is_dir():
        return []
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and ".territory2" in p.name and p.resolve() not in written
    ]


def _exclusion_note(session: Session, model_row: TerritoryModelRow) -> str | None:
    """Where the model's exclusions go, since metadata does not carry them."""
    count = frames.load_exclusions(session, model_row.pk).height
    if not count:
        return None
    name = model_row.developer_name
    return (
        f"{plural(count, 'exclusion')} (an account kept out of one territory's rules) "
        f"{'is' if count == 1 else 'are'} not metadata: load "
        "Territory2ObjectExclusion-insert-by-name.csv (or -insert.csv, by Territory2Id) of "
        f"'territorial salesforce dataloader {name} DIR' before running the assignment rules "
        "in Salesforce, or the accounts also land in the excluded territories; "
        f"'territorial export exclusions --model {name} -o FILE' lists them"
    )


def export_salesforce_metadata(
    ws: Workspace, model: str, path: Path | str, *, layout: Layout = "sfdx", overwrite: bool = False
) -> SalesforceExport:
    """Write ``model`` as Territory2 metadata (with ``package.xml``) ready to deploy.

    ``layout`` is ``sfdx`` (a source-format project) or ``mdapi``. The folder must be empty
    or missing unless ``overwrite``, which also removes territory and rule files of this
    model that the export no longer has (so a deploy does not resurrect them).
    """
    if layout not in ("sfdx", "mdapi"):
        raise ValidationError(f"Unknown format {layout!r}.", hint="Use sfdx or mdapi.")
    base = Path(path)
    if base.exists() and not base.is_dir():
        raise ValidationError(f"{base} is a file.", hint="Give a folder to export into.")
    if base.is_dir() and any(base.iterdir()) and not overwrite:
        raise Conflict(
            f"{base} is not empty.",
            hint="Export into a new folder, or pass --overwrite to update an earlier export.",
        )
    spec = read_spec(ws, model)
    with ws.session() as session:
        catalog = fields.catalog(session, "account")
        excluded = _exclusion_note(session, lookup.model(session, model))
    files = write_metadata(spec, base, layout=layout, catalog=catalog)
    stale = _stale_files(base, layout, spec.developer_name, {p.resolve() for p in files})
    for p in stale:
        p.unlink()
    return SalesforceExport(
        spec.developer_name,
        layout,
        str(base),
        len(files),
        (*export_warnings(spec, catalog), *([excluded] if excluded else [])),
        len(stale),
    )


__all__ = [
    "SalesforceExport",
    "SalesforceImport",
    "export_salesforce_metadata",
    "import_salesforce_metadata",
    "infer_field_type",
    "parse_field_map",
]
