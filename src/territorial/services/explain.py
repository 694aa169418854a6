"""Explain an account's territories: which rules and items put it where it is, and why it
is not in the territory someone expected.

The rules are evaluated now, one account, by the reference evaluator (the same semantics
as a run). Each territory's effective rules are listed in pk order, except the rule the
last run recorded for the account's assignment (the one exports, ``compare`` and ``report
multi`` name: ``rules.deciding``), which comes first, marked ``← recorded by the last
run``. Manual assignments, exclusions and ``excluded_from_realign`` are read from the
database; when the stored rule assignments differ from what the rules say now (a rule
changed since the last run), the explanation says so. An archived model is frozen: its
stored assignments are reported, and what its rules would say today only as a labelled
hypothetical.

>>> import tempfile
>>> from territorial.settings import Settings
>>> from territorial.services.workspace import Workspace
>>> from territorial.services import hierarchy, models, rules, runs
>>> from territorial.store.schema import Account
>>> ws = Workspace(Settings(database_url=f"sqlite:///{tempfile.mkdtemp()}/doc.db", actor="doc"))
>>> ws.init()
>>> _ = hierarchy.add_type(ws, "Geo", priority=1)
>>> _ = models.create_model(ws, "Plan")
>>> _ = hierarchy.add_territory(ws, "Plan", "West", type="Geo")
>>> _ = rules.add_rule(ws, "Plan", "West states", items=["BillingStateCode equals CA,NV"])
>>> rules.attach_rule(ws, "Plan", "West_states", "West")
>>> with ws.session() as s:
...     s.add(Account(id="001", name="Acme", billing_state_code="NV"))
>>> _ = runs.run_rules(ws, "Plan")
>>> print(explain(ws, "001", model="Plan"))
Account 001 (Acme), model Plan (an account must satisfy all effective rules)
In West by rule West_states:
  rule West_states ✓ ← recorded by the last run
    1. BillingStateCode equals CA,NV — account has 'NV' ✓
>>> ws.close()
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.model import ModelState
from territorial.core.reasons import named_rules
from territorial.core.rules.compile import CompiledModel, compile_model, required_fields
from territorial.core.rules.deciding import sibling_rules
from territorial.core.rules.explain import (
    FAIL_MARK,
    PASS_MARK,
    ItemVerdict,
    Reason,
    RuleVerdict,
    TerritoryExplanation,
    explain_account,
)
from territorial.core.rules.reference import as_boolean
from territorial.services import fields, lookup
from territorial.services.runs import model_input
from territorial.services.workspace import Workspace
from territorial.store import frames
from territorial.store.schema import (
    AccountAssignmentRow,
    ExclusionRow,
    RuleRow,
    TerritoryModelRow,
    TerritoryRow,
)

RECORDED_MARK = "←"
"""Marks the rule the last run recorded for an assignment."""


@dataclass(frozen=True)
class TerritoryVerdict:
    """One territory and the account: in it or not, by rules and/or by hand, and why.

    ``reason`` is what the rules (with exclusions) say now; ``by_hand`` is a stored manual
    assignment; ``stored_by_rules`` is the rule assignment stored by the last run.
    ``rules`` come in pk order, except the rule the last run recorded, which comes first.
    """

    territory: str
    territory_name: str
    by_rules: bool
    by_hand: bool
    reason: Reason
    rules: tuple[RuleVerdict, ...]
    stored_by_rules: bool = False
    inherited_from: Mapping[str, str] = field(default_factory=dict)
    """Rule developer name → the ancestor territory it is inherited from."""
    recorded_rule: str | None = None
    """The rule the last run recorded for the stored rule assignment (the one exports,
    ``compare`` and ``report multi`` name), None without one."""
    sets_apart: bool = False
    """The recorded rule is the only rule the account satisfies here that no sibling
    territory has (``report multi`` names it alone)."""
    frozen: bool = False
    """The model is archived: ``by_rules`` is the stored rule assignment, and what the rules
    say now (``rules_now``) is only hypothetical."""
    rules_now: bool = False
    """What the rules say now (for a frozen model; otherwise it is ``by_rules``)."""

    @property
    def assigned(self) -> bool:
        """In the territory by rules or by hand."""
        return self.by_rules or self.by_hand

    @property
    def assigned_by(self) -> str | None:
        """``rules``, ``hand``, ``rules and hand``, or None."""
        causes = [c for c, on in (("rules", self.by_rules), ("hand", self.by_hand)) if on]
        return " and ".join(causes) or None

    @property
    def stale(self) -> bool:
        """The stored rule assignment differs from what the rules say now."""
        return not self.frozen and self.by_rules != self.stored_by_rules

    def headline(self) -> str:
        """One line: in or not in the territory, and the main reason."""
        name = self.territory
        if self.frozen:
            return self._frozen_headline()
        if self.by_rules:
            names = [r.rule_name for r in self.rules if r.passed]
            label = "rule" if len(names) == 1 else "rules"
            hand = " (and by hand)" if self.by_hand else ""
            return f"In {name} by {label} {', '.join(names)}{hand}:"
        if self.by_hand:
            tail = "" if not self.rules else f"; by rules it would not be: {self.reason.text}"
            return f"In {name} by hand (a manual assignment, kept by every run){tail}."
        if self.reason is Reason.FAILED:
            failed = [r for r in self.rules if not r.passed]
            if len(failed) == 1:
                return f"Not in {name}: {failed[0].summary()}"
            return f"Not in {name}: {len(failed)} of {len(self.rules)} effective rules failed:"
        if self.reason is Reason.NO_RULES:
            return (
                f"Not in {name}: {self.reason.text} "
                "(attach a rule to it or an ancestor, or assign the account by hand)."
            )
        matched = "its rules match" if any(r.passed for r in self.rules) else "its rules fail"
        return f"Not in {name}: {self.reason.text} ({matched})."

    def _frozen_headline(self) -> str:
        name, hand = self.territory, " (and by hand)" if self.by_hand else ""
        if self.by_rules:
            rule = f" {self.recorded_rule}" if self.recorded_rule else "s"
            return f"In {name} by rule{rule}{hand}, as stored when the model was archived:"
        if self.by_hand:
            return f"In {name} by hand (a manual assignment), as stored when it was archived."
        return f"Not in {name}: it was not assigned here when the model was archived."

    def recorded_mark(self) -> str:
        """What follows the recorded rule's line: ``← recorded by the last run ...``."""
        apart = f", as the rule that sets {self.territory} apart from its siblings"
        return f"{RECORDED_MARK} recorded by the last run{apart if self.sets_apart else ''}"

    def lines(self, model: str | None = None) -> list[str]:
        """The headline, then every effective rule and item with the account's values."""
        out = [self.headline()]
        for rule in self.rules:
            source = self.inherited_from.get(rule.rule_name)
            via = f" (inherited from {source})" if source else ""
            mark = f" {self.recorded_mark()}" if rule.rule_name == self.recorded_rule else ""
            out.append(f"  {_rule_line(rule)}{via}{mark}")
            out.extend(f"    {item.number}. {item}" for item in rule.items)
        if self.recorded_rule and all(r.rule_name != self.recorded_rule for r in self.rules):
            out.append(
                f"  Note: the last run recorded rule {self.recorded_rule}, which is no longer "
                f"an effective rule of {self.territory}."
            )
        if self.frozen and self.rules_now != self.by_rules:
            would = "be here by rules" if self.rules_now else "not be here by rules"
            out.append(
                f"  Note: hypothetically, by its rules as they read today the account would "
                f"{would}; an archived model is not run, so this is not applied (activating "
                "it would)."
            )
        if self.stale:
            run = f"'territorial run {model}'" if model else "a run"
            stored = "put it here" if self.stored_by_rules else "has not put it here"
            out.append(
                f"  Note: the last run {stored}; the rules or the account changed since, "
                f"and {run} will apply what is shown."
            )
        return out


@dataclass(frozen=True)
class AccountExplanation:
    """Why an account is where it is in one model (or, for one territory, why not)."""

    account_id: str
    account_name: str
    model: str
    combination: str
    excluded_from_realign: bool
    territories: tuple[TerritoryVerdict, ...]
    territory: str | None = None
    """The territory asked about, if any."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """The account's values of the fields the model's rules read."""
    frozen: bool = False
    """The model is archived: its stored assignments are reported, the rules only as what
    they would say (hypothetically)."""

    def lines(self) -> list[str]:
        """The explanation as plain text lines."""
        need = "all effective rules" if self.combination == "all" else "any effective rule"
        out = [
            f"Account {self.account_id} ({self.account_name}), model {self.model} "
            f"(an account must satisfy {need})"
        ]
        if self.excluded_from_realign:
            out.append("The account is excluded from realignment: rules never assign it.")
        if self.frozen:
            out.append(
                f"Model {self.model} is archived: its assignments are frozen as they were when "
                "it was archived; rule results below are what the rules would say today."
            )
            if not any(v.assigned for v in self.territories):
                out.append(f"It is in no territory of {self.model}.")
        elif not self.territories:
            out.append(f"It is in no territory of {self.model}, and no territory's rules match.")
        for verdict in self.territories:
            out.extend(verdict.lines(self.model))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def rows(self) -> list[dict[str, Any]]:
        """One row per territory, rule and item (a territory without rules has one row)."""
        out: list[dict[str, Any]] = []
        for v in self.territories:
            base = {
                "account": self.account_id,
                "territory": v.territory,
                "territory_name": v.territory_name,
                "assigned": v.assigned,
                "assigned_by": v.assigned_by,
                "reason": v.reason.value,
            }
            empty = {
                "rule": None,
                "recorded": None,
                "inherited_from": None,
                "rule_passed": None,
                "item": None,
                "condition": None,
                "value_seen": None,
                "item_passed": None,
                "caused_failure": None,
            }
            if not v.rules:
                out.append(base | empty)
            for rule in v.rules:
                head = base | empty | _rule_cells(rule, v)
                if not rule.items:
                    out.append(head)
                blamed = {i.number for i in rule.failed_items}
                out.extend(head | _item_cells(item, blamed) for item in rule.items)
        return out


def _rule_line(rule: RuleVerdict) -> str:
    """``rule West ✓`` or ``rule West ✗ failed at item 2`` (the items follow it)."""
    shown = f"rule {rule.rule_name}" + (f" (filter {rule.filter})" if rule.filter else "")
    if rule.passed:
        return f"{shown} {PASS_MARK}"
    if not rule.items:
        return f"{shown} {FAIL_MARK} has no items, so it matches no account"
    numbers = ", ".join(str(i.number) for i in rule.failed_items)
    if rule.filter is None:
        return f"{shown} {FAIL_MARK} failed at item {numbers}"
    label = "item" if len(rule.failed_items) == 1 else "items"
    return f"{shown} {FAIL_MARK} failed because of {label} {numbers}"


def _rule_cells(rule: RuleVerdict, verdict: TerritoryVerdict) -> dict[str, Any]:
    return {
        "rule": rule.rule_name,
        "recorded": rule.rule_name == verdict.recorded_rule,
        "inherited_from": verdict.inherited_from.get(rule.rule_name),
        "rule_passed": rule.passed,
    }


def _item_cells(item: ItemVerdict, blamed: set[int]) -> dict[str, Any]:
    value = item.value_seen
    if isinstance(value, float) and math.isnan(value):
        value = None
    elif isinstance(value, tuple):
        value = ",".join("" if v is None else str(v) for v in value)
    return {
        "item": item.number,
        "condition": item.description,
        "value_seen": value,
        "item_passed": item.passed,
        "caused_failure": item.number in blamed,
    }


# -- loading --------------------------------------------------------------------------------


@dataclass
class _Model:
    """A compiled model with the names and texts users wrote."""

    compiled: CompiledModel
    written: dict[tuple[int, int], str]
    filters: dict[int, str]
    associations: list[tuple[int, int, bool]]
    siblings_have: dict[int, frozenset[int]]
    """Per territory, its effective rules that a sibling territory has too."""
    only_children: frozenset[int]
    """Territories without siblings: no rule of theirs sets them apart from one."""


def _load_model(session: Session, model_row: TerritoryModelRow) -> _Model:
    given = model_input(session, model_row)
    compiled = compile_model(given, fields.catalog(session, "account"))
    written = {
        (rule.id, item.number): f"{item.field} {item.operator}"
        for rule in given.rules
        if rule.id is not None
        for item in rule.items
    }
    filters = {
        rule.id: rule.boolean_filter.strip()
        for rule in given.rules
        if rule.id is not None and rule.boolean_filter and rule.boolean_filter.strip()
    }
    parents = {pk: node.parent_pk for pk, node in compiled.territories.items()}
    shared = sibling_rules(parents, compiled.effective)
    family = {pk: parent if parent in parents else None for pk, parent in parents.items()}
    sizes = Counter(family.values())
    only = frozenset(pk for pk, parent in family.items() if sizes[parent] == 1)
    return _Model(compiled, written, filters, list(given.associations), shared, only)


def _as_written(verdict: RuleVerdict, model: _Model) -> RuleVerdict:
    def item(i: ItemVerdict) -> ItemVerdict:
        return replace(i, condition=model.written.get((verdict.rule_pk, i.number), i.condition))

    return replace(
        verdict,
        items=tuple(item(i) for i in verdict.items),
        failed_items=tuple(item(i) for i in verdict.failed_items),
        filter=model.filters.get(verdict.rule_pk, verdict.filter),
    )


def _inherited_from(
    model: _Model, territory_pk: int, rule_pks: Iterable[int], names: Mapping[int, str]
) -> dict[int, str]:
    """For each effective rule not attached to the territory itself, the nearest ancestor
    it is inherited from."""
    own = {(r, t) for r, t, _ in model.associations}
    passed_down = {(r, t) for r, t, inherited in model.associations if inherited}
    result: dict[int, str] = {}
    for rule_pk in rule_pks:
        if (rule_pk, territory_pk) in own:
            continue
        parent = model.compiled.territories[territory_pk].parent_pk
        while parent is not None and parent in model.compiled.territories:
            if (rule_pk, parent) in passed_down:
                result[rule_pk] = names[parent]
                break
            parent = model.compiled.territories[parent].parent_pk
    return result


@dataclass
class _Stored:
    """The account's stored assignments: territory pks by cause, and for each rule
    assignment the rule the run recorded (pk, developer name; None: deleted)."""

    causes: dict[str, set[int]]
    recorded: dict[int, tuple[int, str] | None]


def _assignments(session: Session, model_pk: int, account_pk: int) -> _Stored:
    stored = _Stored({"rule": set(), "manual": set()}, {})
    for territory_pk, cause, rule_pk, rule_name in session.execute(
        select(
            AccountAssignmentRow.territory_pk,
            AccountAssignmentRow.cause,
            RuleRow.pk,
            RuleRow.developer_name,
        )
        .outerjoin(RuleRow, RuleRow.pk == AccountAssignmentRow.rule_pk)
        .where(
            AccountAssignmentRow.model_pk == model_pk,
            AccountAssignmentRow.account_pk == account_pk,
        )
    ):
        stored.causes.setdefault(cause, set()).add(territory_pk)
        if cause == "rule":
            known = rule_pk is not None and rule_name is not None
            stored.recorded[territory_pk] = (rule_pk, rule_name) if known else None
    return stored


def _exclusions(session: Session, model_pk: int, account_pk: int) -> set[int]:
    return set(
        session.scalars(
            select(ExclusionRow.territory_pk)
            .join(TerritoryRow, TerritoryRow.pk == ExclusionRow.territory_pk)
            .where(TerritoryRow.model_pk == model_pk, ExclusionRow.account_pk == account_pk)
        )
    )


def explain(
    ws: Workspace,
    account: str,
    *,
    model: str | None = None,
    territory: str | None = None,
) -> AccountExplanation:
    """Explain which territories of ``model`` (the active one by default) ``account`` is
    in and why; with ``territory``, why it is or is not in that one.

    Every effective rule of each territory is listed with each item as written and the
    value the account has. A manual assignment is reported as such; exclusions and
    ``excluded_from_realign`` are named when they keep the account out.

    Raises NotFound for an unknown account, model or territory, and RuleError when an
    active rule of the model is invalid.
    """
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        acct = lookup.account(session, account)
        asked = lookup.territory(session, model_row, territory) if territory else None
        loaded = _load_model(session, model_row)
        catalog = fields.catalog(session, "account")
        [values] = frames.load_accounts(
            session, catalog, required_fields(loaded.compiled), where=f"account.pk = {acct.pk}"
        ).to_dicts()
        stored = _assignments(session, model_row.pk, acct.pk)
        excluded = _exclusions(session, model_row.pk, acct.pk)
        names = {
            pk: (dev, label)
            for pk, dev, label in session.execute(
                select(TerritoryRow.pk, TerritoryRow.developer_name, TerritoryRow.name).where(
                    TerritoryRow.model_pk == model_row.pk
                )
            )
        }
        compiled = loaded.compiled
        if asked is not None:
            found = explain_account(
                values, compiled, territory_pk=asked.pk, excluded_territories=excluded
            )
        else:
            found = explain_account(values, compiled, excluded_territories=excluded)
            seen = {e.territory_pk for e in found}
            for pk in sorted((stored.causes["manual"] | stored.causes["rule"]) - seen):
                found += explain_account(
                    values, compiled, territory_pk=pk, excluded_territories=excluded
                )
        dev_names = {pk: dev for pk, (dev, _) in names.items()}
        frozen = model_row.state == ModelState.ARCHIVED
        verdicts = [
            _verdict(e, loaded, stored, dev_names, names[e.territory_pk][1], frozen=frozen)
            for e in found
        ]
        verdicts.sort(key=lambda v: (not v.assigned, v.territory.lower()))
        realign = as_boolean(values.get("excluded_from_realign"))
        shown = {k: v for k, v in values.items() if k not in ("pk", "excluded_from_realign")}
        return AccountExplanation(
            acct.id,
            acct.name,
            model_row.developer_name,
            compiled.combination,
            realign,
            tuple(verdicts),
            asked.developer_name if asked is not None else None,
            shown,
            frozen,
        )


def _verdict(
    found: TerritoryExplanation,
    model: _Model,
    stored: _Stored,
    names: Mapping[int, str],
    label: str,
    *,
    frozen: bool = False,
) -> TerritoryVerdict:
    pk = found.territory_pk
    rules = tuple(_as_written(r, model) for r in found.rules)
    via = _inherited_from(model, pk, [r.rule_pk for r in rules], names)
    recorded = stored.recorded.get(pk)
    sets_apart = False
    if recorded is not None:
        rules = tuple(sorted(rules, key=lambda r: r.rule_pk != recorded[0]))  # stable
        matched = [r.rule_pk for r in found.rules if r.passed]
        shared = model.siblings_have.get(pk, frozenset())
        sets_apart = pk not in model.only_children and named_rules(
            recorded[0], matched, shared
        ) == (recorded[0],)
    return TerritoryVerdict(
        territory=names[pk],
        territory_name=label,
        by_rules=pk in stored.causes["rule"] if frozen else found.assigned,
        by_hand=pk in stored.causes["manual"],
        reason=found.reason,
        rules=rules,
        stored_by_rules=pk in stored.causes["rule"],
        inherited_from={model.compiled.rules[r].name: t for r, t in via.items()},
        recorded_rule=recorded[1] if recorded is not None else None,
        sets_apart=sets_apart,
        frozen=frozen,
        rules_now=found.assigned,
    )


__all__ = ["AccountExplanation", "TerritoryVerdict", "explain"]
