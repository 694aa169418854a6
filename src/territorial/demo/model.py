"""The demo's starter territory model: a go-to-market shaped like a real one.

::

    NA  (Region)
      NA_West / NA_Central / NA_East  (Area)
        *_Enterprise  (Segment) -> Geo leaves by state
        *_Commercial  (Segment) -> Geo leaves by state, big states by ZIP prefix
      Canada  (Area) -> Geo leaves by province
    EMEA (Region) -> UK_I, DACH, France_Benelux, Nordics -> Geo leaves by country,
                     city or postal prefix
    APAC (Region) -> ANZ, Japan, Rest_of_APAC -> Geo leaves
    Industry_Overlay (Overlay) -> specialist territories by industry
    Strategic_Accounts (Named) -> named accounts per region, assigned by hand

Rules sit on the leaves only (Geo and Overlay leaves), never inherited: an inherited rule
also applies to the territory it is attached to, so a country rule inherited from an area
would put every account of the country into the area itself. Instead, as real orgs do, a
few shared rules are attached to many leaves: a US enterprise leaf has ``US_Accounts``,
``Enterprise_Revenue`` and its own state rule, and with the model's default ``all``
combination gets exactly the accounts satisfying the three. Regions, areas and segments
get no rule assignments; they roll up their leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from territorial.core.model import Rule, RuleAssociation, RuleItem, Territory, TerritoryType

ENTERPRISE_REVENUE = 500_000_000

Item = tuple[str, str, str]

TYPES = (
    TerritoryType("Region", 10, "Region", "Top of the sales hierarchy"),
    TerritoryType("Area", 20, "Area", "A region's sales area"),
    TerritoryType("Segment", 30, "Segment", "Enterprise or commercial accounts of an area"),
    TerritoryType("Geo", 50, "Geo", "A rep's geographic patch"),
    # Same priority as Area, as real orgs often have: geo leaves still win opportunities.
    TerritoryType("Overlay", 20, "Industry Overlay", "Specialists who overlay the geo reps"),
    TerritoryType("Named", 100, "Named Accounts", "Strategic accounts assigned by hand"),
)


@dataclass(frozen=True)
class Node:
    """One territory of the demo model with its rules (leaves only) and coverage plan."""

    name: str
    label: str
    type: str
    parent: str | None
    items: tuple[Item, ...] = ()
    boolean_filter: str | None = None
    shared: tuple[str, ...] = ()  # shared rules attached besides its own items
    hub: tuple[float, float] = (0.0, 0.0)  # where its people live
    owner: str | None = ""  # leaf: rep key ("" = its own rep, None = vacant)


STATE = "Account.BillingStateCode"
POSTAL = "Account.BillingPostalCode"
COUNTRY = "Account.BillingCountryCode"
CITY = "Account.BillingCity"
INDUSTRY = "Account.Industry"
REVENUE = "Account.AnnualRevenue"

US_ENTERPRISE = ("US_Accounts", "Enterprise_Revenue")
US_COMMERCIAL = ("US_Accounts", "Commercial_Revenue")
CANADA = ("Canada_Accounts",)
FINANCIAL = ("Financial_Industries",)


def _shared_rules() -> tuple[Rule, ...]:
    """Rules attached to many leaves (each leaf also has its own rule)."""

    def rule(name: str, label: str, *items: Item) -> Rule:
        numbered = tuple(RuleItem(i, f, op, v) for i, (f, op, v) in enumerate(items, 1))
        return Rule(name, numbered, name=label)

    return (
        rule("US_Accounts", "United States", (COUNTRY, "equals", "US")),
        rule("Canada_Accounts", "Canada", (COUNTRY, "equals", "CA")),
        rule(
            "Enterprise_Revenue", "Enterprise", (REVENUE, "greaterOrEqual", f"{ENTERPRISE_REVENUE}")
        ),
        rule("Commercial_Revenue", "Commercial", (REVENUE, "lessThan", f"{ENTERPRISE_REVENUE}")),
        rule(
            "Financial_Industries",
            "Financial industries",
            (INDUSTRY, "equals", "Banking, Financial Services, Insurance"),
        ),
    )


def _states(codes: str) -> tuple[Item, ...]:
    return ((STATE, "equals", codes),)


def _state_prefix(state: str, prefixes: str) -> tuple[Item, ...]:
    return ((STATE, "equals", state), (POSTAL, "startsWith", prefixes))


def _country(codes: str, *more: Item) -> tuple[Item, ...]:
    return ((COUNTRY, "equals", codes), *more)


def _group(name: str, label: str, kind: str, parent: str | None, hub: tuple[float, float]) -> Node:
    """A region, area or segment: no rules of its own, it rolls up its leaves."""
    return Node(name, label, kind, parent, hub=hub)


def _leaf(
    name: str,
    label: str,
    parent: str,
    items: tuple[Item, ...],
    hub: tuple[float, float],
    owner: str | None = "",
    shared: tuple[str, ...] = (),
) -> Node:
    return Node(name, label, "Geo", parent, items, hub=hub, owner=owner, shared=shared)


def _us_leaf(
    name: str,
    label: str,
    segment: str,
    items: tuple[Item, ...],
    hub: tuple[float, float],
    owner: str | None = "",
) -> Node:
    """A US geo leaf: ``US_Accounts``, its segment's revenue rule and its own rule."""
    shared = US_ENTERPRISE if segment.endswith("_Enterprise") else US_COMMERCIAL
    return _leaf(name, label, segment, items, hub, owner, shared)


def _north_america() -> Iterator[Node]:
    yield _group("NA", "North America", "Region", None, (40.71, -74.01))
    yield from _na_west()
    yield from _na_central()
    yield from _na_east()
    yield _group("Canada", "Canada", "Area", "NA", (43.65, -79.38))
    yield _leaf(
        "Canada_East",
        "Canada East",
        "Canada",
        _states("ON,QC,NS,NB,NL,PE"),
        (43.65, -79.38),
        shared=CANADA,
    )
    yield _leaf(
        "Canada_West",
        "Canada West",
        "Canada",
        _states("BC,AB,SK,MB,YT,NT,NU"),
        (49.28, -123.12),
        shared=CANADA,
    )


def _segments(area: str, label: str, hub: tuple[float, float]) -> Iterator[Node]:
    yield _group(area, label, "Area", "NA", hub)
    yield _group(f"{area}_Enterprise", f"{label} Enterprise", "Segment", area, hub)
    yield _group(f"{area}_Commercial", f"{label} Commercial", "Segment", area, hub)


def _na_west() -> Iterator[Node]:
    yield from _segments("NA_West", "NA West", (37.77, -122.42))
    ent, com = "NA_West_Enterprise", "NA_West_Commercial"
    yield _us_leaf(
        "West_Ent_Pacific",
        "West Enterprise Pacific",
        ent,
        _states("CA,OR,WA,AK,HI"),
        (37.44, -122.14),
    )
    yield _us_leaf(
        "West_Ent_Mountain",
        "West Enterprise Mountain",
        ent,
        _states("NV,AZ,UT,CO,NM,ID,MT,WY"),
        (39.74, -104.99),
    )
    yield _us_leaf(
        "CA_South", "Southern California", com, _state_prefix("CA", "90,91,92"), (34.05, -118.24)
    )
    yield _us_leaf("CA_Bay_Area", "Bay Area", com, _state_prefix("CA", "94"), (37.77, -122.42))
    yield _us_leaf(
        "CA_Central_North",
        "Central & Northern California",
        com,
        _state_prefix("CA", "93, 95, 96"),
        (38.58, -121.49),
    )
    yield _us_leaf(
        "Pacific_Northwest", "Pacific Northwest", com, _states("WA,OR,AK,HI,ID"), (47.61, -122.33)
    )
    yield _us_leaf("Southwest", "Southwest", com, _states("AZ,NV,NM,UT"), (33.45, -112.07))
    yield _us_leaf("Rockies", "Rockies", com, _states("CO,MT,WY"), (39.74, -104.99), owner=None)


def _na_central() -> Iterator[Node]:
    yield from _segments("NA_Central", "NA Central", (41.88, -87.63))
    ent, com = "NA_Central_Enterprise", "NA_Central_Commercial"
    south, north = "TX,OK,AR,LA,KS,MO", "MN,IA,WI,NE,SD,ND,IL,IN,MI,OH"
    yield _us_leaf(
        "Central_Ent_South", "Central Enterprise South", ent, _states(south), (32.78, -96.80)
    )
    yield _us_leaf(
        "Central_Ent_North",
        "Central Enterprise North",
        ent,
        _states(north),
        (41.88, -87.63),
        owner="Central_Ent_South",
    )
    yield _us_leaf(
        "Texas_North_West",
        "Texas North & West",
        com,
        _state_prefix("TX", "75,76,79,88"),
        (32.78, -96.80),
    )
    yield _us_leaf("Texas_South", "Texas South", com, _state_prefix("TX", "77,78"), (29.76, -95.37))
    yield _us_leaf(
        "South_Central", "South Central", com, _states("OK,AR,LA,KS,MO"), (39.10, -94.58)
    )
    yield _us_leaf(
        "Upper_Midwest", "Upper Midwest", com, _states("MN,IA,WI,NE,SD,ND"), (44.98, -93.27)
    )
    yield _us_leaf("Great_Lakes", "Great Lakes", com, _states("IL,IN,MI,OH"), (41.88, -87.63))


def _na_east() -> Iterator[Node]:
    yield from _segments("NA_East", "NA East", (40.71, -74.01))
    ent, com = "NA_East_Enterprise", "NA_East_Commercial"
    northeast, southeast = "NY,NJ,PA,MA,CT,RI,NH,VT,ME", "DE,MD,DC,VA,WV,NC,SC,GA,FL,TN,AL,MS,KY"
    yield _us_leaf(
        "East_Ent_Northeast", "East Enterprise Northeast", ent, _states(northeast), (40.71, -74.01)
    )
    yield _us_leaf(
        "East_Ent_Southeast", "East Enterprise Southeast", ent, _states(southeast), (33.75, -84.39)
    )
    yield _us_leaf("NY_Metro", "New York Metro", com, _state_prefix("NY", "10,11"), (40.71, -74.01))
    yield _us_leaf(
        "NY_Upstate",
        "Upstate New York",
        com,
        _state_prefix("NY", "12,13,14"),
        (42.65, -73.76),
        owner="New_England",
    )
    yield _us_leaf("New_England", "New England", com, _states("MA,CT,RI,NH,VT,ME"), (42.36, -71.06))
    yield _us_leaf("NJ_PA", "New Jersey & Pennsylvania", com, _states("NJ,PA"), (39.95, -75.17))
    yield _us_leaf("Mid_Atlantic", "Mid-Atlantic", com, _states("DE,MD,DC,VA,WV"), (38.91, -77.04))
    yield _us_leaf("Southeast", "Southeast", com, _states("NC,SC,GA,TN,AL,MS,KY"), (33.75, -84.39))
    yield _us_leaf("Florida", "Florida", com, _states("FL"), (25.76, -80.19))


def _emea() -> Iterator[Node]:
    yield _group("EMEA", "EMEA", "Region", None, (51.51, -0.13))
    yield _group("UK_I", "UK & Ireland", "Area", "EMEA", (51.51, -0.13))
    yield _leaf(
        "UK_London", "London", "UK_I", _country("GB", (CITY, "equals", "London")), (51.51, -0.13)
    )
    yield _leaf(
        "UK_Regional",
        "UK Regions",
        "UK_I",
        _country("GB", (CITY, "notEqual", "London")),
        (53.48, -2.24),
    )
    yield _leaf("Ireland", "Ireland", "UK_I", _country("IE"), (53.35, -6.26), owner="UK_Regional")
    yield _group("DACH", "DACH", "Area", "EMEA", (48.14, 11.58))
    yield _leaf(
        "Germany_North",
        "Germany North",
        "DACH",
        _country("DE", (POSTAL, "startsWith", "0,1,2,3,4")),
        (52.52, 13.40),
    )
    yield _leaf(
        "Germany_South",
        "Germany South",
        "DACH",
        _country("DE", (POSTAL, "startsWith", "5,6,7,8,9")),
        (48.14, 11.58),
    )
    yield _leaf(
        "Austria_Switzerland", "Austria & Switzerland", "DACH", _country("AT,CH"), (47.38, 8.54)
    )
    yield _group("France_Benelux", "France & Benelux", "Area", "EMEA", (48.86, 2.35))
    yield _leaf("France", "France", "France_Benelux", _country("FR"), (48.86, 2.35))
    yield _leaf("Benelux", "Benelux", "France_Benelux", _country("NL,BE,LU"), (52.37, 4.90))
    yield _group("Nordics", "Nordics", "Area", "EMEA", (59.33, 18.07))
    yield _leaf("Nordics_West", "Nordics West", "Nordics", _country("NO,DK,IS"), (59.91, 10.75))
    yield _leaf(
        "Nordics_East",
        "Nordics East",
        "Nordics",
        _country("SE,FI"),
        (59.33, 18.07),
        owner="Nordics_West",
    )


def _apac() -> Iterator[Node]:
    yield _group("APAC", "APAC", "Region", None, (1.29, 103.85))
    yield _group("ANZ", "Australia & New Zealand", "Area", "APAC", (-33.87, 151.21))
    yield _leaf(
        "Australia_East",
        "Australia East",
        "ANZ",
        _country("AU", (STATE, "equals", "NSW,VIC,QLD,ACT,TAS")),
        (-33.87, 151.21),
    )
    yield _leaf(
        "Australia_West",
        "Australia West",
        "ANZ",
        _country("AU", (STATE, "equals", "WA,SA,NT")),
        (-31.95, 115.86),
    )
    yield _leaf(
        "New_Zealand",
        "New Zealand",
        "ANZ",
        _country("NZ"),
        (-36.85, 174.76),
        owner="Australia_West",
    )
    yield _group("Japan", "Japan", "Area", "APAC", (35.68, 139.65))
    yield _leaf(
        "Japan_East",
        "Japan East",
        "Japan",
        _country("JP", (POSTAL, "startsWith", "0,1,2,3")),
        (35.68, 139.65),
    )
    yield _leaf(
        "Japan_West",
        "Japan West",
        "Japan",
        _country("JP", (POSTAL, "startsWith", "4,5,6,7,8,9")),
        (34.69, 135.50),
        owner=None,
    )
    yield _group("Rest_of_APAC", "Rest of APAC", "Area", "APAC", (1.29, 103.85))
    yield _leaf(
        "South_East_Asia", "South East Asia", "Rest_of_APAC", _country("SG,MY"), (1.29, 103.85)
    )
    yield _leaf(
        "North_Asia",
        "North Asia",
        "Rest_of_APAC",
        _country("HK,KR"),
        (22.32, 114.17),
        owner="South_East_Asia",
    )
    yield _leaf("India", "India", "Rest_of_APAC", _country("IN"), (12.97, 77.59))


def _overlays() -> Iterator[Node]:
    yield Node("Industry_Overlay", "Industry Overlay", "Overlay", None, hub=(40.71, -74.01))
    yield Node(
        "Healthcare_Life_Sciences",
        "Healthcare & Life Sciences",
        "Overlay",
        "Industry_Overlay",
        (
            (INDUSTRY, "equals", "Healthcare,Biotechnology"),
            (REVENUE, "greaterOrEqual", "50000000"),
            ("Account.NumberOfEmployees", "greaterOrEqual", "1000"),
        ),
        boolean_filter="1 AND (2 OR 3)",
        hub=(42.36, -71.06),
    )
    yield Node(
        "Financial_Services_NA",
        "Financial Services North America",
        "Overlay",
        "Industry_Overlay",
        ((COUNTRY, "equals", "US,CA"),),
        shared=FINANCIAL,
        hub=(40.71, -74.01),
    )
    yield Node(
        "Financial_Services_Intl",
        "Financial Services International",
        "Overlay",
        "Industry_Overlay",
        ((COUNTRY, "notEqual", "US,CA,MX,BR"),),
        shared=FINANCIAL,
        hub=(51.51, -0.13),
    )
    yield Node(
        "Public_Sector_US",
        "US Public Sector",
        "Overlay",
        "Industry_Overlay",
        ((INDUSTRY, "equals", "Government,Education"),),
        shared=("US_Accounts",),
        hub=(38.91, -77.04),
    )


def _named() -> Iterator[Node]:
    yield Node("Strategic_Accounts", "Strategic Accounts", "Named", None, hub=(40.71, -74.01))
    for region, hub in (
        ("NA", (40.71, -74.01)),
        ("EMEA", (51.51, -0.13)),
        ("APAC", (1.29, 103.85)),
    ):
        yield Node(
            f"Named_{region}", f"Named Accounts {region}", "Named", "Strategic_Accounts", hub=hub
        )


def nodes() -> tuple[Node, ...]:
    """Every territory of the demo model, parents before children."""
    return (*_north_america(), *_emea(), *_apac(), *_overlays(), *_named())


def rules_and_associations(all_nodes: tuple[Node, ...]) -> tuple[list[Rule], list[RuleAssociation]]:
    """The model's rules (shared ones plus one per leaf with own items) and attachments.

    Every association is on a leaf and none is inherited (see the module's docstring).
    """
    rules = list(_shared_rules())
    associations: list[RuleAssociation] = []
    for node in all_nodes:
        associations.extend(RuleAssociation(name, node.name) for name in node.shared)
        if node.items:
            numbered = tuple(RuleItem(i, f, op, v) for i, (f, op, v) in enumerate(node.items, 1))
            name = f"{node.name}_Rule"
            rules.append(Rule(name, numbered, node.boolean_filter, name=f"{node.label} rule"))
            associations.append(RuleAssociation(name, node.name))
    return rules, associations


def territories(all_nodes: tuple[Node, ...]) -> list[Territory]:
    """The nodes as model territories."""
    return [Territory(n.name, n.type, n.label, n.parent) for n in all_nodes]


__all__ = [
    "ENTERPRISE_REVENUE",
    "TYPES",
    "Node",
    "nodes",
    "rules_and_associations",
    "territories",
]
