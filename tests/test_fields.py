"""The custom field catalog: declare, list, reject clashes and bad names."""

from __future__ import annotations

import pytest

from territorial.core.fields import FieldType
from territorial.errors import Conflict, ValidationError
from territorial.services.fields import add_field, catalog, list_fields
from territorial.services.workspace import Workspace


def test_add_and_list(ws: Workspace) -> None:
    field = add_field(
        ws, "Account", "Tier__c", "picklist", label="Tier", picklist_values=["Gold", " Silver ", ""]
    )
    assert (field.type, field.label, field.picklist_values) == (
        FieldType.PICKLIST,
        "Tier",
        ("Gold", "Silver"),
    )
    add_field(ws, "opportunity", "Renewal__c", FieldType.BOOLEAN)
    names = [f.name for f in list_fields(ws, "account")]
    assert names[:2] == ["id", "name"] and names[-1] == "Tier__c"
    assert "Renewal__c" not in names
    with ws.session() as session:
        found = catalog(session, "account").resolve("account.tier__c")
    assert found is not None and found.custom and found.name == "Tier__c"


@pytest.mark.parametrize(
    ("kind", "name", "ftype", "error", "fragment"),
    [
        ("account", "BillingCity", "text", Conflict, "standard field 'billing_city'"),
        ("account", "Account.Industry", "text", ValidationError, "not a valid field name"),
        ("account", "annual_revenue", "number", Conflict, "standard"),
        ("account", "2fast", "text", ValidationError, "not a valid field name"),
        ("account", "has space", "text", ValidationError, "letters, digits and underscores"),
        ("account", "Ok__c", "currency", ValidationError, "Unknown field type 'currency'"),
        ("widget", "Ok__c", "text", ValidationError, "Unknown object 'widget'"),
        ("account", "Ok__c", "text", ValidationError, "Only picklist"),
    ],
)
def test_rejected(
    ws: Workspace, kind: str, name: str, ftype: str, error: type[Exception], fragment: str
) -> None:
    values = ["a"] if fragment == "Only picklist" else None
    with pytest.raises(error, match=fragment):
        add_field(ws, kind, name, ftype, picklist_values=values)


def test_duplicate_custom_field_any_case(ws: Workspace) -> None:
    add_field(ws, "account", "Tier__c", "text")
    with pytest.raises(Conflict, match="custom field 'Tier__c'"):
        add_field(ws, "account", "TIER__C", "text")
