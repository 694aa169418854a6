"""The field catalog: standard fields of each record kind, custom fields, and name resolution.

Field names are accepted in snake_case or in Salesforce form, so ``billing_postal_code``,
``BillingPostalCode`` and ``Account.BillingPostalCode`` all name the same field. Custom
fields keep the name they were declared with (``Segment__c``) and are looked up without
regard to case.

>>> catalog = FieldCatalog.standard("account")
>>> catalog.resolve("Account.BillingPostalCode").name
'billing_postal_code'
>>> catalog.resolve("BillingLatitude").name
'latitude'
>>> catalog.resolve("Tier__c") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

RecordKind = Literal["account", "opportunity", "user"]


class FieldType(StrEnum):
    """The types a field can have; rules compare values according to them."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"

    @property
    def is_textual(self) -> bool:
        return self in (FieldType.TEXT, FieldType.PICKLIST, FieldType.MULTIPICKLIST)


@dataclass(frozen=True)
class Field:
    """One field of a record kind."""

    name: str
    type: FieldType
    label: str = ""
    custom: bool = False
    required: bool = False
    picklist_values: tuple[str, ...] = ()

    @property
    def salesforce_name(self) -> str:
        """The field's Salesforce API name (``BillingPostalCode``, ``Tier__c``)."""
        if self.custom:
            return self.name
        return _SALESFORCE_NAMES.get(self.name) or "".join(
            part.capitalize() for part in self.name.split("_")
        )


T, N, D, B, P = (
    FieldType.TEXT,
    FieldType.NUMBER,
    FieldType.DATE,
    FieldType.BOOLEAN,
    FieldType.PICKLIST,
)

STANDARD_FIELDS: dict[str, tuple[Field, ...]] = {
    "account": (
        Field("id", T, "Account ID", required=True),
        Field("name", T, "Account Name", required=True),
        Field("billing_street", T, "Billing Street"),
        Field("billing_country", T, "Billing Country"),
        Field("billing_country_code", T, "Billing Country Code"),
        Field("billing_state", T, "Billing State/Province"),
        Field("billing_state_code", T, "Billing State Code"),
        Field("billing_city", T, "Billing City"),
        Field("billing_postal_code", T, "Billing Zip/Postal Code"),
        Field("latitude", N, "Billing Latitude"),
        Field("longitude", N, "Billing Longitude"),
        Field("industry", P, "Industry"),
        Field("type", P, "Account Type"),
        Field("record_type", T, "Record Type"),
        Field("annual_revenue", N, "Annual Revenue"),
        Field("number_of_employees", N, "Employees"),
        Field("owner_id", T, "Account Owner ID"),
        Field("excluded_from_realign", B, "Excluded from Realignment"),
    ),
    "opportunity": (
        Field("id", T, "Opportunity ID", required=True),
        Field("account_id", T, "Account ID", required=True),
        Field("name", T, "Opportunity Name", required=True),
        Field("amount", N, "Amount"),
        Field("stage", P, "Stage"),
        Field("probability", N, "Probability (%)"),
        Field("close_date", D, "Close Date"),
        Field("is_closed", B, "Closed"),
        Field("is_won", B, "Won"),
        Field("owner_id", T, "Opportunity Owner ID"),
        Field("excluded_from_territory_filter", B, "Excluded from Territory Filter"),
    ),
    "user": (
        Field("id", T, "User ID", required=True),
        Field("name", T, "Full Name", required=True),
        Field("email", T, "Email"),
        Field("title", T, "Title"),
        Field("home_latitude", N, "Home Latitude"),
        Field("home_longitude", N, "Home Longitude"),
        Field("capacity", N, "Capacity"),
    ),
}

# Salesforce spellings that do not follow from the snake_case name.
_SALESFORCE_NAMES = {
    "latitude": "BillingLatitude",
    "longitude": "BillingLongitude",
    "record_type": "RecordTypeId",
    "stage": "StageName",
    "excluded_from_territory_filter": "IsExcludedFromTerritory2Filter",
    "is_closed": "IsClosed",
    "is_won": "IsWon",
}

# Extra spellings accepted on input, keyed by their squashed form (see ``squash``).
_ALIASES = {
    "billinglatitude": "latitude",
    "billinglongitude": "longitude",
    "recordtypeid": "record_type",
    "recordtypename": "record_type",
    "stagename": "stage",
    "isexcludedfromterritory2filter": "excluded_from_territory_filter",
    "excludedfromterritory2filter": "excluded_from_territory_filter",
    "accountname": "name",
    "fullname": "name",
    "employees": "number_of_employees",
    "externalid": "id",
}

_PREFIX = re.compile(r"^(account|opportunity|user)\.", re.IGNORECASE)


def squash(name: str) -> str:
    """Lower-case a field name and drop everything but letters and digits.

    >>> squash("Billing_Postal_Code"), squash("BillingPostalCode")
    ('billingpostalcode', 'billingpostalcode')
    """
    return re.sub(r"[^a-z0-9]", "", name.lower())


def strip_object_prefix(name: str) -> str:
    """Drop a leading ``Account.`` (or ``Opportunity.``/``User.``) from a field name."""
    return _PREFIX.sub("", name.strip())


def is_valid_custom_name(name: str) -> bool:
    """A custom field name: letters, digits and underscores, starting with a letter."""
    return re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,79}", name) is not None


@dataclass
class FieldCatalog:
    """Fields of one record kind: the standard ones and the declared custom ones."""

    kind: RecordKind
    fields: dict[str, Field] = field(default_factory=dict)

    @classmethod
    def standard(cls, kind: RecordKind, custom: Iterable[Field] = ()) -> FieldCatalog:
        catalog = cls(kind, {f.name: f for f in STANDARD_FIELDS[kind]})
        for extra in custom:
            catalog.fields[extra.name] = extra
        return catalog

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields.values())

    @property
    def standard_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if not f.custom]

    @property
    def custom_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.custom]

    def resolve(self, name: str) -> Field | None:
        """The field a user-written name refers to, or None when there is none."""
        bare = strip_object_prefix(name)
        for f in self.fields.values():
            if f.custom and f.name.lower() == bare.lower():
                return f
        key = squash(bare)
        key = _ALIASES.get(key, key)
        for f in self.fields.values():
            if not f.custom and (squash(f.name) == key or f.name == key):
                return f
        return None


__all__ = [
    "STANDARD_FIELDS",
    "Field",
    "FieldCatalog",
    "FieldType",
    "RecordKind",
    "is_valid_custom_name",
    "squash",
    "strip_object_prefix",
]
