"""Validate rules against the field catalog and compile them for the evaluators.

``validate_rules`` checks many rules and collects every problem (an importer reports all
unknown fields at once); ``compile_rule`` raises the first problem; ``compile_model``
compiles a whole model: the active rules and each territory's effective rules.

>>> from territorial.core.fields import FieldCatalog
>>> from territorial.core.model import Rule, RuleItem
>>> catalog = FieldCatalog.standard("account")
>>> rule = Rule("West", (RuleItem(1, "BillingStateCode", "Equals", "ca, NV"),), id=7)
>>> compiled = compile_rule(rule, catalog)
>>> compiled.items[0].field, compiled.items[0].operator, compiled.items[0].values
('billing_state_code', <Operator.EQUALS: 'equals'>, ('ca', 'nv'))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from territorial.core.fields import Field, FieldCatalog, FieldType, squash
from territorial.core.model import Rule, RuleCombination, RuleItem
from territorial.core.rules.deciding import rule_order
from territorial.core.rules.filter import (
    Conjunction,
    FilterNode,
    and_all,
    item_numbers,
    parse_filter,
    to_dnf,
)
from territorial.core.rules.operators import (
    ALLOWED,
    Operator,
    parse_boolean,
    parse_date,
    parse_number,
    parse_operator,
    parse_within,
    split_values,
)
from territorial.errors import RuleError, ValidationError

Scalar = str | float | date | bool
LOCATION_FIELDS = ("latitude", "longitude")
_LOCATION_NAMES = {"billingaddress", "location", "address", "latitude", "longitude"}
ALWAYS_LOADED = "excluded_from_realign"


@dataclass(frozen=True)
class CompiledItem:
    """A validated rule item: canonical field, type, operator and parsed values.

    Text values are lower-cased; ``within`` keeps ``(lat, lon, radius_km)`` in ``within``
    and reads the ``latitude``/``longitude`` fields.
    """

    number: int
    field: str
    type: FieldType
    operator: Operator
    values: tuple[Scalar, ...]
    raw_value: str
    within: tuple[float, float, float] | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """The account fields this item reads."""
        return LOCATION_FIELDS if self.operator is Operator.WITHIN else (self.field,)

    def describe(self) -> str:
        """``billing_state_code equals CA,NV`` as written (values as the user wrote them)."""
        return f"{self.field} {self.operator.value} {self.raw_value}"


@dataclass(frozen=True)
class CompiledRule:
    """A validated rule: its items by number, its filter and the filter's DNF.

    ``dnf`` is empty for a rule with no items: it matches nothing.
    """

    pk: int
    name: str
    active: bool
    items: tuple[CompiledItem, ...]
    filter: FilterNode | None
    dnf: tuple[Conjunction, ...]

    def item(self, number: int) -> CompiledItem:
        """The item with this number."""
        for it in self.items:
            if it.number == number:
                return it
        raise KeyError(number)


@dataclass(frozen=True)
class RuleWarning:
    """Something legal but probably unintended (a rule with no items, for instance)."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"Rule {self.rule!r}: {self.message}"


@dataclass
class RuleReport:
    """Everything ``validate_rules`` found: the compiled rules, errors and warnings."""

    compiled: list[CompiledRule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    warnings: list[RuleWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no rule has an error."""
        return not self.errors

    def raise_errors(self) -> None:
        """Raise the only error, or one error listing all of them; do nothing when none."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            listed = "; ".join(str(e) for e in self.errors[:20])
            more = f"; and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
            raise RuleError(
                f"{len(self.errors)} problems in rules: {listed}{more}",
                hint="Fix each rule listed and try again.",
            )


def _resolve_field(item: RuleItem, operator: Operator, catalog: FieldCatalog) -> Field | None:
    if operator is Operator.WITHIN and squash(item.field.split(".")[-1]) in _LOCATION_NAMES:
        return catalog.resolve("latitude")
    return catalog.resolve(item.field)


def _parse_values(item: RuleItem, op: Operator, ftype: FieldType, rule: str) -> tuple[Scalar, ...]:
    parts = split_values(item.value)
    if not parts:
        raise RuleError(
            "the value is empty, and an empty field never matches.",
            rule=rule,
            item=item.number,
            hint="Give a value, or a comma-separated list of values.",
        )
    if op.is_range and len(parts) > 1:
        raise RuleError(
            f"{op.value} takes one value, not a list ({item.value!r}).",
            rule=rule,
            item=item.number,
            hint="Use one value, or split the condition into several items.",
        )
    try:
        if ftype is FieldType.NUMBER:
            return tuple(parse_number(p) for p in parts)
        if ftype is FieldType.DATE:
            return tuple(parse_date(p) for p in parts)
        if ftype is FieldType.BOOLEAN:
            return tuple(parse_boolean(p) for p in parts)
    except ValueError as err:
        raise RuleError(
            f"value {item.value!r} does not fit the {ftype.value} field: {err}.",
            rule=rule,
            item=item.number,
            hint=_VALUE_HINTS[ftype],
        ) from err
    return tuple(p.lower() for p in parts)


_VALUE_HINTS = {
    FieldType.NUMBER: "Write numbers like 1000000 or 2.5, separated by commas for a list.",
    FieldType.DATE: "Write dates as yyyy-mm-dd, e.g. 2026-02-01.",
    FieldType.BOOLEAN: "Write true/false, yes/no or 1/0.",
}


def compile_item(item: RuleItem, catalog: FieldCatalog, *, rule: str) -> CompiledItem:
    """Validate and compile one item; raise RuleError naming ``rule`` and the item.

    >>> catalog = FieldCatalog.standard("account")
    >>> compile_item(RuleItem(2, "AnnualRevenue", "lessthan", "5e6"), catalog, rule="R").values
    (5000000.0,)
    >>> compile_item(RuleItem(1, "Tier__c", "equals", "A"), catalog, rule="R")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    territorial.errors.RuleError: Rule 'R', item 1: unknown field 'Tier__c'. ...
    """
    op = parse_operator(item.operator)
    if op is None:
        names = ", ".join(o.value for o in Operator)
        raise RuleError(
            f"unknown operator {item.operator!r}.",
            rule=rule,
            item=item.number,
            hint=f"Use one of: {names}.",
        )
    fld = _resolve_field(item, op, catalog)
    if fld is None:
        raise RuleError(
            f"unknown field {item.field!r}.",
            rule=rule,
            item=item.number,
            hint="Check the spelling, or declare it with 'territorial field add NAME --type T'.",
        )
    if op is Operator.WITHIN:
        return _compile_within(item, fld, rule)
    if op not in ALLOWED[fld.type]:
        allowed = ", ".join(sorted(o.value for o in ALLOWED[fld.type]))
        raise RuleError(
            f"operator {op.value} does not apply to {fld.type.value} field {fld.name!r}.",
            rule=rule,
            item=item.number,
            hint=f"For a {fld.type.value} field use one of: {allowed}.",
        )
    values = _parse_values(item, op, fld.type, rule)
    return CompiledItem(item.number, fld.name, fld.type, op, values, item.value)


def _compile_within(item: RuleItem, fld: Field, rule: str) -> CompiledItem:
    if fld.name not in LOCATION_FIELDS:
        raise RuleError(
            f"within applies to the account location, not to {fld.name!r}.",
            rule=rule,
            item=item.number,
            hint="Write the item on BillingLatitude (or BillingAddress): 'lat,lon,radius_km'.",
        )
    try:
        triple = parse_within(item.value)
    except ValueError as err:
        raise RuleError(
            f"within value {item.value!r} is wrong: {err}.",
            rule=rule,
            item=item.number,
            hint="Write latitude,longitude,radius in km, e.g. '37.77,-122.42,50'.",
        ) from err
    return CompiledItem(
        item.number, "latitude", FieldType.NUMBER, Operator.WITHIN, triple, item.value, triple
    )


def _check_filter(rule: Rule, numbers: list[int], name: str) -> FilterNode | None:
    text = (rule.boolean_filter or "").strip()
    if not text:
        return None
    node = parse_filter(text, rule=name)
    mentioned = item_numbers(node)
    for n in sorted(mentioned - set(numbers)):
        raise RuleError(
            f"boolean filter {text!r} names item {n}, which the rule does not have.",
            rule=name,
            item=n,
            hint=f"Use only the rule's item numbers ({', '.join(map(str, numbers)) or 'none'}).",
        )
    for n in sorted(set(numbers) - mentioned):
        raise RuleError(
            f"boolean filter {text!r} leaves out item {n}.",
            rule=name,
            item=n,
            hint=f"Mention item {n} in the filter, or delete the item.",
        )
    return node


def _compile(rule: Rule, catalog: FieldCatalog) -> tuple[CompiledRule | None, list[RuleError]]:
    name = rule.developer_name
    errors: list[RuleError] = []
    items: list[CompiledItem] = []
    seen: set[int] = set()
    for it in rule.items:
        if it.number in seen or it.number < 1:
            errors.append(
                RuleError(
                    f"item number {it.number} is used twice or is below 1.",
                    rule=name,
                    item=it.number,
                    hint="Number the items 1, 2, 3...",
                )
            )
            continue
        seen.add(it.number)
        try:
            items.append(compile_item(it, catalog, rule=name))
        except RuleError as err:
            errors.append(err)
    node: FilterNode | None = None
    dnf: tuple[Conjunction, ...] = ()
    try:
        node = _check_filter(rule, [it.number for it in rule.items], name)
        if rule.items:
            dnf = to_dnf(node or and_all(it.number for it in rule.items), rule=name)
    except RuleError as err:
        errors.append(err)
    if errors:
        return None, errors
    pk = rule.id if rule.id is not None else -1
    return CompiledRule(pk, name, rule.active, tuple(items), node, dnf), []


def compile_rule(rule: Rule, catalog: FieldCatalog) -> CompiledRule:
    """Validate and compile one rule; raise the first RuleError found.

    A rule without ``id`` gets pk -1. A rule with no items compiles (it matches nothing).
    """
    compiled, errors = _compile(rule, catalog)
    if compiled is None:
        raise errors[0]
    return compiled


def validate_rules(rules: Iterable[Rule], catalog: FieldCatalog) -> RuleReport:
    """Validate many rules, collecting every error and warning instead of stopping.

    >>> catalog = FieldCatalog.standard("account")
    >>> report = validate_rules([
    ...     Rule("A", (RuleItem(1, "Foo__c", "equals", "x"),)),
    ...     Rule("B", (RuleItem(1, "Bar__c", "equals", "x"),)),
    ...     Rule("C"),
    ... ], catalog)
    >>> [e.rule for e in report.errors], [str(w) for w in report.warnings]
    (['A', 'B'], ["Rule 'C': has no items, so it matches no account."])
    """
    report = RuleReport()
    for rule in rules:
        compiled, errors = _compile(rule, catalog)
        report.errors.extend(errors)
        if compiled is not None:
            report.compiled.append(compiled)
            if not compiled.items:
                report.warnings.append(
                    RuleWarning(rule.developer_name, "has no items, so it matches no account.")
                )
    return report


@dataclass(frozen=True)
class TerritoryNode:
    """A territory as the engine sees it: its pk, parent pk and type priority."""

    pk: int
    parent_pk: int | None = None
    type_priority: int = 0
    depth: int | None = None


@dataclass
class ModelInput:
    """What the engine needs of a model: territories, rules (``Rule.id`` is the rule pk),
    associations ``(rule_pk, territory_pk, inherited)`` and the combination setting."""

    territories: Sequence[TerritoryNode]
    rules: Sequence[Rule]
    associations: Sequence[tuple[int, int, bool]]
    combination: RuleCombination = "all"


@dataclass
class CompiledModel:
    """A compiled model: active rules by pk and each territory's effective rule pks.

    ``effective`` holds only territories with at least one effective rule, each with its
    rule pks sorted ascending. ``rule_order`` has the same rules of every territory in the
    order a run prefers to record them (``rules.deciding``), computed over the whole model:
    a copy whose ``effective`` is limited to a subtree keeps it.
    """

    rules: dict[int, CompiledRule]
    effective: dict[int, tuple[int, ...]]
    combination: RuleCombination
    territories: dict[int, TerritoryNode]
    rule_order: dict[int, tuple[int, ...]]
    warnings: list[RuleWarning] = field(default_factory=list)
    engine_cache: dict[str, object] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """What the engine derives from the model once (its plan); do not mutate the model
    after the engine has used it."""


def _ancestors(territories: dict[int, TerritoryNode]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    for pk in territories:
        chain: list[int] = []
        parent = territories[pk].parent_pk
        while parent is not None:
            if parent == pk or parent in chain:
                raise ValidationError(
                    f"territory {pk} is its own ancestor.",
                    hint="Move a territory so the hierarchy has no cycle.",
                )
            if parent not in territories:
                break
            chain.append(parent)
            parent = territories[parent].parent_pk
        result[pk] = chain
    return result


def effective_rules(
    territories: dict[int, TerritoryNode],
    associations: Iterable[tuple[int, int, bool]],
    active: set[int],
) -> dict[int, tuple[int, ...]]:
    """Each territory's own active rules plus inherited active rules of its ancestors.

    >>> nodes = {1: TerritoryNode(1), 2: TerritoryNode(2, 1), 3: TerritoryNode(3, 2)}
    >>> effective_rules(nodes, [(10, 1, True), (11, 2, False), (12, 9, True)], {10, 11})
    {1: (10,), 2: (10, 11), 3: (10,)}
    """
    own: dict[int, set[int]] = {}
    inherited: dict[int, set[int]] = {}
    for rule_pk, territory_pk, is_inherited in associations:
        if rule_pk not in active or territory_pk not in territories:
            continue
        own.setdefault(territory_pk, set()).add(rule_pk)
        if is_inherited:
            inherited.setdefault(territory_pk, set()).add(rule_pk)
    result: dict[int, tuple[int, ...]] = {}
    for pk, chain in _ancestors(territories).items():
        rules = set(own.get(pk, ()))
        for ancestor in chain:
            rules |= inherited.get(ancestor, set())
        if rules:
            result[pk] = tuple(sorted(rules))
    return result


def compile_model(model: ModelInput, catalog: FieldCatalog) -> CompiledModel:
    """Validate and compile a model; raise RuleError listing every problem in active rules.

    Inactive rules never match: they are not compiled, and a problem in one is only a
    warning.

    >>> from territorial.core.model import Rule, RuleItem
    >>> model = ModelInput(
    ...     territories=[TerritoryNode(1), TerritoryNode(2, parent_pk=1)],
    ...     rules=[Rule("US", (RuleItem(1, "BillingCountryCode", "equals", "US"),), id=5)],
    ...     associations=[(5, 1, True)],
    ... )
    >>> compile_model(model, FieldCatalog.standard("account")).effective
    {1: (5,), 2: (5,)}
    """
    for rule in model.rules:
        if rule.id is None:
            raise RuleError(
                "has no id.", rule=rule.developer_name, hint="Give every rule its pk as Rule.id."
            )
    if model.combination not in ("all", "any"):
        raise ValidationError(
            f"rule combination {model.combination!r} is not 'all' or 'any'.",
            hint="Set the model's rule combination to 'all' (ETM) or 'any'.",
        )
    active = validate_rules([r for r in model.rules if r.active], catalog)
    active.raise_errors()
    inactive = validate_rules([r for r in model.rules if not r.active], catalog)
    warnings = active.warnings + [
        RuleWarning(e.rule or "?", f"is inactive and has a problem: {e.message}")
        for e in inactive.errors
    ]
    rules = {r.pk: r for r in active.compiled}
    territories = {t.pk: t for t in model.territories}
    effective = effective_rules(territories, model.associations, set(rules))
    order = rule_order({pk: t.parent_pk for pk, t in territories.items()}, effective)
    return CompiledModel(rules, effective, model.combination, territories, order, warnings)


def effective_rule_pks(compiled: CompiledModel) -> set[int]:
    """Pks of the rules some territory depends on."""
    return {pk for pks in compiled.effective.values() for pk in pks}


def required_fields(compiled: CompiledModel | Iterable[CompiledRule]) -> set[str]:
    """Account columns the caller must load: fields the effective rules read, plus
    ``excluded_from_realign``.

    >>> from territorial.core.model import Rule, RuleItem
    >>> catalog = FieldCatalog.standard("account")
    >>> rule = compile_rule(Rule("Near", (RuleItem(1, "BillingAddress", "within", "1,2,3"),)),
    ...                     catalog)
    >>> sorted(required_fields([rule]))
    ['excluded_from_realign', 'latitude', 'longitude']
    """
    if isinstance(compiled, CompiledModel):
        used = effective_rule_pks(compiled)
        rules: Iterable[CompiledRule] = [compiled.rules[pk] for pk in sorted(used)]
    else:
        rules = compiled
    names = {ALWAYS_LOADED}
    for rule in rules:
        for item in rule.items:
            names.update(item.fields)
    return names


__all__ = [
    "ALWAYS_LOADED",
    "LOCATION_FIELDS",
    "CompiledItem",
    "CompiledModel",
    "CompiledRule",
    "ModelInput",
    "RuleReport",
    "RuleWarning",
    "Scalar",
    "TerritoryNode",
    "compile_item",
    "compile_model",
    "compile_rule",
    "effective_rule_pks",
    "effective_rules",
    "required_fields",
    "validate_rules",
]
