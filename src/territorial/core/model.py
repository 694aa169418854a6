"""Plain dataclasses for the concepts of a territory model (DESIGN.md section 2).

These carry no database identity beyond optional integer ids: the core computes on them,
the store persists them, and importers (CSV, Salesforce metadata, the demo generator)
produce them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

AccessLevel = Literal["Read", "Edit", "All", "None"]
RuleCombination = Literal["all", "any"]
AssignmentCause = Literal["rule", "manual"]

# Salesforce's limits on assignment rules (Territorial has none; exports warn past them).
RULE_ITEM_LIMIT = 10
"""Most items in one assignment rule."""
RULE_VALUE_LIMIT = 1000
"""Most characters in one rule item's value."""
TERRITORY_RULE_LIMIT = 15
"""Most assignment rules on one territory."""


class ModelState(StrEnum):
    """Lifecycle states of a territory model (ETM names, plus reactivation of archives)."""

    PLANNING = "planning"
    ACTIVE = "active"
    ARCHIVED = "archived"
    CLONING = "cloning"
    ACTIVATING = "activating"
    ARCHIVING = "archiving"
    DELETING = "deleting"
    CLONE_FAILED = "clone_failed"
    ACTIVATION_FAILED = "activation_failed"
    ARCHIVE_FAILED = "archive_failed"
    DELETE_FAILED = "delete_failed"


@dataclass(frozen=True)
class TerritoryType:
    """A kind of territory (Geo, Segment, Named...). Greater priority wins opportunity ties."""

    developer_name: str
    priority: int
    name: str = ""
    description: str = ""

    @property
    def label(self) -> str:
        return self.name or self.developer_name


@dataclass(frozen=True)
class RuleItem:
    """One condition of a rule: ``field operator value``, numbered from 1."""

    number: int
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class Rule:
    """An account assignment rule: items combined by the boolean filter (AND of all if none)."""

    developer_name: str
    items: tuple[RuleItem, ...] = ()
    boolean_filter: str | None = None
    active: bool = True
    name: str = ""
    id: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.developer_name


@dataclass(frozen=True)
class RuleAssociation:
    """A rule attached to a territory; ``inherited`` applies it to every descendant too."""

    rule: str
    territory: str
    inherited: bool = False


@dataclass(frozen=True)
class Territory:
    """A node of the hierarchy. ``parent`` and ``type`` are developer names."""

    developer_name: str
    type: str
    name: str = ""
    parent: str | None = None
    description: str = ""
    account_access_level: AccessLevel = "Edit"
    opportunity_access_level: AccessLevel = "Edit"
    case_access_level: AccessLevel = "Edit"
    contact_access_level: AccessLevel = "Edit"
    forecast_manager: str | None = None
    target: float | None = None
    custom: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    id: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.developer_name


@dataclass(frozen=True)
class UserAssignment:
    """A user working a territory in a role (Territory Owner, AE, SE, CSM, Manager...)."""

    user: str
    territory: str
    role: str


@dataclass
class ModelSpec:
    """A whole territory model as data: what importers produce and the store persists."""

    developer_name: str
    name: str = ""
    description: str = ""
    rule_combination: RuleCombination = "all"
    types: list[TerritoryType] = field(default_factory=list)
    territories: list[Territory] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    associations: list[RuleAssociation] = field(default_factory=list)
    user_assignments: list[UserAssignment] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.developer_name


__all__ = [
    "RULE_ITEM_LIMIT",
    "RULE_VALUE_LIMIT",
    "TERRITORY_RULE_LIMIT",
    "AccessLevel",
    "AssignmentCause",
    "ModelSpec",
    "ModelState",
    "Rule",
    "RuleAssociation",
    "RuleCombination",
    "RuleItem",
    "Territory",
    "TerritoryType",
    "UserAssignment",
]
