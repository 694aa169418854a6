"""The custom field catalog: declare fields, list them, and build a :class:`FieldCatalog`.

Custom values live in the JSON ``custom`` column of their record; the catalog (table
``field``) gives each one a type so imports parse them and rules compare them correctly.

>>> from territorial.settings import Settings
>>> from territorial.services.workspace import Workspace
>>> import tempfile
>>> ws = Workspace(Settings(database_url=f"sqlite:///{tempfile.mkdtemp()}/doc.db", actor="doc"))
>>> ws.init()
>>> add_field(ws, "account", "Tier__c", "picklist", picklist_values=["Gold", "Silver"]).type
<FieldType.PICKLIST: 'picklist'>
>>> [f.name for f in list_fields(ws, "account") if f.custom]
['Tier__c']
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.fields import (
    Field,
    FieldCatalog,
    FieldType,
    RecordKind,
    is_valid_custom_name,
)
from territorial.errors import Conflict, ValidationError
from territorial.services import audit
from territorial.services.workspace import Workspace
from territorial.store.schema import FieldDef

KINDS: tuple[str, ...] = get_args(RecordKind)


def record_kind(kind: str) -> RecordKind:
    """Check a user-given object name (``account``, ``Opportunity``...).

    >>> record_kind("Account")
    'account'
    """
    lowered = kind.strip().lower()
    if lowered not in KINDS:
        raise ValidationError(f"Unknown object {kind!r}.", hint=f"Use one of: {', '.join(KINDS)}.")
    return cast(RecordKind, lowered)


def field_type(name: str) -> FieldType:
    """Check a user-given field type name."""
    try:
        return FieldType(name.strip().lower())
    except ValueError as err:
        raise ValidationError(
            f"Unknown field type {name!r}.",
            hint=f"Use one of: {', '.join(t.value for t in FieldType)}.",
        ) from err


def _to_field(row: FieldDef) -> Field:
    return Field(
        row.name,
        FieldType(row.type),
        row.label or row.name,
        custom=True,
        picklist_values=tuple(row.picklist_values or ()),
    )


def catalog(session: Session, kind: RecordKind) -> FieldCatalog:
    """The standard fields of ``kind`` plus its custom fields declared in the database."""
    rows = session.scalars(select(FieldDef).where(FieldDef.object == kind).order_by(FieldDef.pk))
    return FieldCatalog.standard(kind, [_to_field(row) for row in rows])


def create_field(
    session: Session,
    kind: RecordKind,
    name: str,
    ftype: FieldType,
    *,
    actor: str,
    label: str | None = None,
    picklist_values: Sequence[str] | None = None,
) -> Field:
    """Declare a custom field in the caller's transaction (used by imports too)."""
    if not is_valid_custom_name(name):
        raise ValidationError(
            f"{name!r} is not a valid field name.",
            hint="Use letters, digits and underscores, starting with a letter "
            "(for example Segment__c).",
        )
    existing = catalog(session, kind).resolve(name)
    if existing is not None:
        what = "custom" if existing.custom else "standard"
        raise Conflict(
            f"{kind.capitalize()} already has a {what} field {existing.name!r} "
            f"that {name!r} would clash with.",
            hint="Choose another name, for example with a __c suffix.",
        )
    values = [v.strip() for v in picklist_values or () if v.strip()]
    if values and ftype not in (FieldType.PICKLIST, FieldType.MULTIPICKLIST):
        raise ValidationError(
            "Only picklist and multipicklist fields take --values.",
            hint=f"Drop --values or use --type picklist for {name!r}.",
        )
    row = FieldDef(
        object=kind,
        name=name,
        label=label or name,
        type=ftype.value,
        picklist_values=values or None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="field.add",
        entity="field",
        key=f"{kind}.{name}",
        after={"type": ftype.value, "label": row.label, "picklist_values": values or None},
    )
    return _to_field(row)


def add_field(
    ws: Workspace,
    kind: str,
    name: str,
    type: str | FieldType,
    *,
    label: str | None = None,
    picklist_values: Sequence[str] | None = None,
) -> Field:
    """Declare a custom field of ``kind`` (account, opportunity or user).

    Parameters
    ----------
    name
        Letters, digits and underscores (``Segment__c``); must not clash with a standard
        field (``BillingCity``) or an existing custom one, whatever the case.
    type
        text, number, date, boolean, picklist or multipicklist.
    picklist_values
        The allowed values of a picklist (informative; imports do not enforce them).
    """
    record = record_kind(kind)
    ftype = type if isinstance(type, FieldType) else field_type(type)
    with ws.session() as session:
        return create_field(
            session,
            record,
            name.strip(),
            ftype,
            actor=ws.actor,
            label=label,
            picklist_values=picklist_values,
        )


def list_fields(ws: Workspace, kind: str = "account") -> list[Field]:
    """Every field of ``kind``: the standard ones first, then the custom ones."""
    record = record_kind(kind)
    with ws.session() as session:
        return list(catalog(session, record))


__all__ = [
    "KINDS",
    "add_field",
    "catalog",
    "create_field",
    "field_type",
    "list_fields",
    "record_kind",
]
