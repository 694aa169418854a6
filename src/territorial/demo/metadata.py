"""Production-shaped Territory2 models, for tests and benchmarks of the Salesforce import.

Real exports are large and untidy; this generator reproduces their shape (pure data):

* about 800 territories six levels deep under four roots:
  Region → Area → Country → State → Segment → Postal;
* about 900 rules: country, state, revenue-segment and postal rules that assign, area
  overlay rules with lower-case nested boolean filters (``1 and (2 or (3 and 4))``), plus
  legacy inactive rules, rules with no items and rules attached to no territory;
* operators dominated by ``contains``, ``equals``, ``notContain`` and ``startsWith``, some
  range operators; fields written ``Account.BillingCountryCode``, ``Account.BillingStateCode``,
  ``Account.BillingPostalCode`` and custom ``__c`` fields (:data:`CUSTOM_FIELDS`);
* postal-code lists of about 1,000 characters, and duplicate type priorities.

:func:`production_accounts` draws accounts (Salesforce column names) that land in it.

>>> spec = production_model(seed=1)
>>> len(spec.territories), len(spec.rules)
(800, 900)
>>> max(len(i.value) for r in spec.rules for i in r.items) > 900
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from territorial.core.model import (
    AccessLevel,
    ModelSpec,
    Rule,
    RuleAssociation,
    RuleItem,
    Territory,
)
from territorial.core.model import TerritoryType as Type
from territorial.io.salesforce.metadata import Layout
from territorial.io.salesforce.writer import write_metadata

MODEL = "Global_Sales_FY27"
CUSTOM_FIELDS = (("Tier__c", "text"), ("Sales_Region__c", "text"), ("Employee_Band__c", "number"))
TYPES = [
    Type("Region", 10, "Region"),
    Type("Area", 20, "Area"),
    Type("Country", 20, "Country"),  # same priority as Area, as real orgs have
    Type("State", 30, "State/Province"),
    Type("Segment", 40, "Segment"),
    Type("Postal", 50, "Postal Territory"),
]
REGIONS = {
    "NA": ("US", "CA", "MX", "PR", "BM", "BS", "JM", "DO", "CR"),
    "EMEA": ("GB", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "ZA"),
    "APAC": ("AU", "JP", "IN", "SG", "KR", "NZ", "MY", "TH", "PH"),
    "LATAM": ("BR", "AR", "CL", "CO", "PE", "UY", "EC", "BO", "PY"),
}
INDUSTRIES = ("Banking", "Insurance", "Retail", "Manufacturing", "Healthcare", "Technology")
ENTERPRISE = 50_000_000
STATES_PER_COUNTRY = 4


@dataclass(frozen=True)
class _State:
    country: str
    code: str
    dev: str
    prefixes: tuple[str, ...]  # five 3-digit postal prefixes owned by the state


def _states() -> list[_State]:
    states: list[_State] = []
    for countries in REGIONS.values():
        for cc in countries:
            for i in range(STATES_PER_COUNTRY):
                k = len(states)
                prefixes = tuple(str(100 + 5 * k + j) for j in range(5))
                states.append(_State(cc, f"{chr(65 + i)}{chr(75 + i)}", f"{cc}_S{i + 1}", prefixes))
    return states


def _item(number: int, field: str, op: str, value: str) -> RuleItem:
    return RuleItem(number, field, op, value)


def production_model(*, seed: int | None = 0) -> ModelSpec:
    """A model of exactly 800 territories and 900 rules shaped like a production export."""
    rng = random.Random(seed)
    spec = ModelSpec(MODEL, "Global Sales FY27", types=list(TYPES))
    T, R, A = spec.territories, spec.rules, spec.associations

    def territory(dev: str, label: str, kind: str, parent: str | None) -> None:
        opp: AccessLevel = "Read" if kind == "Postal" else "Edit"
        T.append(Territory(dev, kind, label, parent, opportunity_access_level=opp))

    def rule(dev: str, label: str, items: list[RuleItem], flt: str | None = None) -> None:
        R.append(Rule(dev, tuple(items), flt, True, label))

    states = iter(_states())
    for region, countries in REGIONS.items():
        territory(region, region, "Region", None)
        for a in range(3):
            area = f"{region}_Area_{a + 1}"
            territory(area, f"{region} Area {a + 1}", "Area", region)
            rule(
                f"{area}_Overlay",
                f"{area} FSI overlay",
                [
                    _item(1, "Account.Industry", "equals", "Banking,Insurance"),
                    _item(2, "Account.AnnualRevenue", "greaterThan", "1000000"),
                    _item(3, "Account.Tier__c", "equals", "A,B"),
                    _item(4, "Account.Sales_Region__c", "contains", region.lower()),
                ],
                "1 and (2 or (3 and 4))",
            )
            A.append(RuleAssociation(f"{area}_Overlay", area))
            for cc in countries[3 * a : 3 * a + 3]:
                _country(spec, rng, cc, area, [next(states) for _ in range(STATES_PER_COUNTRY)])
    _untidy(spec, rng)
    return spec


def _country(spec: ModelSpec, rng: random.Random, cc: str, area: str, states: list[_State]) -> None:
    T, R, A = spec.territories, spec.rules, spec.associations
    T.append(Territory(cc, "Country", f"Country {cc}", area))
    op = "contains" if rng.random() < 0.5 else "equals"
    R.append(Rule(f"Country_{cc}", (_item(1, "Account.BillingCountryCode", op, cc),), name=cc))
    A.append(RuleAssociation(f"Country_{cc}", cc, True))
    for s in states:
        T.append(Territory(s.dev, "State", f"{cc} {s.code}", cc))
        items = [_item(1, "Account.BillingStateCode", "equals", s.code)]
        flt = None
        if rng.random() < 0.3:
            items.append(_item(2, "Account.Type", "notContain", "Partner,Competitor"))
            flt = "1 and 2"
        R.append(Rule(f"State_{s.dev}", tuple(items), flt, name=f"State {s.dev}"))
        A.append(RuleAssociation(f"State_{s.dev}", s.dev, True))
        for seg in ("Enterprise", "Commercial"):
            dev = f"{s.dev}_{seg[:3]}"
            T.append(Territory(dev, "Segment", f"{s.dev} {seg}", s.dev))
            A.append(RuleAssociation(f"{seg}_Revenue", dev, True))
        _postal(spec, s)


def _postal(spec: ModelSpec, s: _State) -> None:
    T, R, A = spec.territories, spec.rules, spec.associations
    p = s.prefixes
    codes = ",".join(f"{prefix}{n:02d}" for prefix in p[2:4] for n in range(80))
    leaves = [
        (f"{s.dev}_Com_1", f"{s.dev}_Com", "startsWith", f"{p[0]},{p[1]}"),
        (f"{s.dev}_Com_2", f"{s.dev}_Com", "equals", codes),
    ]
    # A few enterprise segments are split by postal code too (level 6 on both sides).
    if int(s.prefixes[0]) % 36 < 7:
        leaves.append((f"{s.dev}_Ent_1", f"{s.dev}_Ent", "startsWith", p[4]))
    for dev, parent, op, value in leaves:
        T.append(Territory(dev, "Postal", dev.replace("_", " "), parent))
        items = (_item(1, "Account.BillingPostalCode", op, value),)
        R.append(Rule(f"Postal_{dev}", items, name=f"Postal {dev}"))
        A.append(RuleAssociation(f"Postal_{dev}", dev))


def _untidy(spec: ModelSpec, rng: random.Random) -> None:
    """Shared revenue rules, then the legacy clutter of real orgs, up to 900 rules."""
    R, A = spec.rules, spec.associations
    R.append(
        Rule(
            "Enterprise_Revenue",
            (_item(1, "Account.AnnualRevenue", "greaterOrEqual", str(ENTERPRISE)),),
            name="Enterprise revenue",
        )
    )
    R.append(
        Rule(
            "Commercial_Revenue",
            (_item(1, "Account.AnnualRevenue", "lessThan", str(ENTERPRISE)),),
            name="Commercial revenue",
        )
    )
    leaves = [t.developer_name for t in spec.territories if t.type == "Postal"]
    words = ("Holdings", "Bank", "Group", "Partners", "Retail", "Health")
    n = 0
    while len(R) < 900:
        n += 1
        dev = f"Legacy_{n:03d}"
        kind = n % 5
        if kind == 0:
            R.append(Rule(dev, (), None, bool(n % 2), f"Empty {n}"))  # no items
        elif kind in (1, 2):
            items: tuple[RuleItem, ...] = (
                _item(1, "Account.Name", "contains", rng.choice(words)),
                _item(2, "Account.BillingCountryCode", "notContain", "US,CA"),
                _item(
                    3, "Account.Employee_Band__c", "greaterOrEqual", str(rng.randint(1, 9) * 100)
                ),
            )
            R.append(Rule(dev, items, "(1 or 2) and 3", False, f"Old rule {n}"))  # inactive
            A.append(RuleAssociation(dev, rng.choice(leaves)))
        else:
            items = (
                _item(1, "Account.Name", "startsWith", rng.choice(words)[:3]),
                _item(2, "Account.Sales_Region__c", "notContain", "test"),
            )
            R.append(Rule(dev, items, "1 AND 2", True, f"Unused {n}"))  # attached nowhere


def production_accounts(n: int, *, seed: int | None = 0) -> pl.DataFrame:
    """``n`` accounts with Salesforce column names, spread over the model's postal codes."""
    rng = random.Random(seed)
    states = _states()
    regions = {cc: region for region, ccs in REGIONS.items() for cc in ccs}
    rows = []
    for i in range(n):
        s = rng.choice(states)
        prefix = rng.choice(s.prefixes)
        rows.append(
            {
                "Id": f"001{i:015d}",
                "Name": f"{rng.choice(('Acme', 'Globex', 'Initech', 'Umbrella'))} {i}",
                "BillingCountryCode": s.country,
                "BillingStateCode": s.code,
                "BillingPostalCode": f"{prefix}{rng.randint(0, 99):02d}",
                "AnnualRevenue": float(rng.choice((2e5, 5e6, 4e7, 6e7, 2e9))),
                "Industry": rng.choice(INDUSTRIES),
                "Type": rng.choice(("Customer", "Prospect", "Partner")),
                "Tier__c": rng.choice("ABC"),
                "Sales_Region__c": f"{regions[s.country].lower()}-{rng.randint(1, 3)}",
                "Employee_Band__c": float(rng.randint(1, 20) * 50),
            }
        )
    return pl.DataFrame(rows)


def write_production_metadata(
    folder: Path | str, *, seed: int | None = 0, layout: Layout = "mdapi"
) -> ModelSpec:
    """Write :func:`production_model` as a metadata folder; return the spec written."""
    spec = production_model(seed=seed)
    write_metadata(spec, folder, layout=layout)
    return spec


__all__ = [
    "CUSTOM_FIELDS",
    "MODEL",
    "production_accounts",
    "production_model",
    "write_production_metadata",
]
