"""Write a model as Salesforce Territory2 metadata: sfdx or mdapi layout, package.xml."""

from __future__ import annotations

import re
from pathlib import Path

from territorial.core.fields import FieldCatalog
from territorial.core.model import (
    RULE_ITEM_LIMIT,
    RULE_VALUE_LIMIT,
    TERRITORY_RULE_LIMIT,
    ModelSpec,
    Rule,
    RuleAssociation,
    Territory,
    TerritoryType,
)
from territorial.core.rules.operators import parse_operator
from territorial.io.salesforce.metadata import (
    ACCESS_ATTR,
    ACCESS_LEVELS,
    APEX_CLASS,
    API_VERSION,
    CUSTOM_PREFIX,
    DEFAULT_ACCESS,
    OPPORTUNITY_FILTER,
    RUN_ON_CREATE,
    Layout,
    file_suffix,
    listing,
)
from territorial.io.salesforce.package import (
    DEFAULT_API_VERSION,
    package_xml,
)
from territorial.io.salesforce.xmltree import (
    Child,
    render,
    typed_value,
)


def salesforce_field(name: str, catalog: FieldCatalog | None = None) -> str:
    """A rule item field as metadata writes it: ``Account.`` and the API name.

    >>> salesforce_field("billing_state_code", FieldCatalog.standard("account"))
    'Account.BillingStateCode'
    >>> salesforce_field("Tier__c")
    'Account.Tier__c'
    """
    if catalog is not None and (found := catalog.resolve(name)) is not None:
        return f"Account.{found.salesforce_name}"
    return name if "." in name else f"Account.{name}"


def renumber_filter(text: str, numbers: dict[int, int]) -> str:
    """Rewrite the item numbers of a boolean filter.

    >>> renumber_filter("1 and (3 or 4)", {1: 1, 3: 2, 4: 3})
    '1 and (2 or 3)'
    """
    return re.sub(r"\d+", lambda m: str(numbers.get(int(m.group()), int(m.group()))), text)


def _custom_children(values: dict[str, str]) -> list[Child]:
    return [
        ("customFields", [("name", k), ("value", typed_value(v))])
        for k, v in sorted(values.items())
    ]


def type_xml(t: TerritoryType) -> str:
    children: list[Child] = []
    if t.description:
        children.append(("description", t.description))
    children += [("name", t.label), ("priority", str(t.priority))]
    return render("Territory2Type", children)


def model_xml(spec: ModelSpec) -> str:
    custom = {
        k[len(CUSTOM_PREFIX) :]: v for k, v in spec.settings.items() if k.startswith(CUSTOM_PREFIX)
    }
    children = _custom_children(custom)
    if spec.description:
        children.append(("description", spec.description))
    children.append(("name", spec.label))
    return render("Territory2Model", children)


def rule_xml(rule: Rule, catalog: FieldCatalog | None = None) -> str:
    items = sorted(rule.items, key=lambda i: i.number)
    numbers = {item.number: position for position, item in enumerate(items, start=1)}
    children: list[Child] = [("active", "true" if rule.active else "false")]
    if rule.boolean_filter:
        children.append(("booleanFilter", renumber_filter(rule.boolean_filter, numbers)))
    children += [("name", rule.label), ("objectType", "Account")]
    for item in items:
        op = parse_operator(item.operator)
        entry: list[Child] = [
            ("field", salesforce_field(item.field, catalog)),
            ("operation", op.value if op else item.operator),
        ]
        if item.value:
            entry.append(("value", item.value))
        children.append(("ruleItems", entry))
    return render("Territory2Rule", children)


def territory_xml(t: Territory, associations: list[RuleAssociation]) -> str:
    children: list[Child] = [
        ("accountAccessLevel", t.account_access_level),
        ("caseAccessLevel", t.case_access_level),
        ("contactAccessLevel", t.contact_access_level),
        *_custom_children(t.custom),
    ]
    if t.description:
        children.append(("description", t.description))
    children += [("name", t.label), ("opportunityAccessLevel", t.opportunity_access_level)]
    if t.parent:
        children.append(("parentTerritory", t.parent))
    children += [
        ("ruleAssociations", [("inherited", str(a.inherited).lower()), ("ruleName", a.rule)])
        for a in associations
    ]
    children.append(("territory2Type", t.type))
    return render("Territory2", children)


def settings_xml(settings: dict[str, str]) -> str | None:
    """``Territory2.settings`` from a model's settings; None when it has none of them."""
    children: list[Child] = [
        (tag, settings[key]) for tag, key in DEFAULT_ACCESS.items() if key in settings
    ]
    if OPPORTUNITY_FILTER in settings:
        children.append(("enableTerritoryManagement2", "true"))
        opp: list[Child] = []
        if APEX_CLASS in settings:
            opp.append(("apexClassName", settings[APEX_CLASS]))
        opp.append(("enableFilter", "true" if settings[OPPORTUNITY_FILTER] == "on" else "false"))
        if RUN_ON_CREATE in settings:
            opp.append(("runOnCreate", settings[RUN_ON_CREATE]))
        children.append(("opportunityFilterSettings", opp))
    elif children:
        children.append(("enableTerritoryManagement2", "true"))
    return render("Territory2Settings", children) if children else None


def export_warnings(spec: ModelSpec, catalog: FieldCatalog | None = None) -> list[str]:
    """What will not deploy, or will behave differently in Salesforce."""
    warnings: list[str] = []
    if spec.rule_combination == "any":
        warnings.append(
            "the model combines rules with 'any'; Salesforce always requires all of a "
            "territory's rules, so assignments there will differ"
        )
    bad_access = [
        f"{t.developer_name} ({tag} {getattr(t, attr)})"
        for t in spec.territories
        for tag, attr in ACCESS_ATTR.items()
        if getattr(t, attr) not in ACCESS_LEVELS[tag]
    ]
    if bad_access:
        warnings.append(f"access levels Salesforce does not accept: {listing(bad_access)}")
    odd = sorted(
        {
            f
            for r in spec.rules
            for i in r.items
            if not re.fullmatch(r"Account\.[A-Za-z]\w*", f := salesforce_field(i.field, catalog))
            or (
                catalog is not None
                and (c := catalog.resolve(i.field)) is not None
                and c.custom
                and not c.name.endswith("__c")
            )
        }
    )
    if odd:
        warnings.append(
            "rule fields that are not Salesforce API names (custom ones end in __c): "
            + listing(odd)
        )
    return warnings + _limit_warnings(spec)


def _limit_warnings(spec: ModelSpec) -> list[str]:
    """Rules and territories past Salesforce's limits (the deploy would fail)."""
    out = []
    many_items = [r.developer_name for r in spec.rules if len(r.items) > RULE_ITEM_LIMIT]
    if many_items:
        out.append(
            f"rules with more than {RULE_ITEM_LIMIT} items, more than Salesforce allows: "
            + listing(many_items)
        )
    long_values = [
        r.developer_name
        for r in spec.rules
        if any(len(i.value) > RULE_VALUE_LIMIT for i in r.items)
    ]
    if long_values:
        out.append(
            f"rule values longer than Salesforce's {RULE_VALUE_LIMIT:,} characters (split them "
            "over several items, OR-ed in the rule's filter): " + listing(long_values)
        )
    per_territory: dict[str, int] = {}
    for a in spec.associations:
        per_territory[a.territory] = per_territory.get(a.territory, 0) + 1
    crowded = sorted(t for t, n in per_territory.items() if n > TERRITORY_RULE_LIMIT)
    if crowded:
        out.append(
            f"territories with more than {TERRITORY_RULE_LIMIT} rules, more than Salesforce "
            "allows: " + listing(crowded)
        )
    return out


def metadata_files(
    spec: ModelSpec, layout: Layout, catalog: FieldCatalog | None = None
) -> dict[str, str]:
    """Every file of the model's metadata, by path relative to the metadata root."""
    dev = spec.developer_name
    files = {
        f"territory2Models/{dev}/{dev}{file_suffix('territory2Model', layout)}": model_xml(spec),
    }
    for kind in spec.types:
        path = f"territory2Types/{kind.developer_name}{file_suffix('territory2Type', layout)}"
        files[path] = type_xml(kind)
    for r in spec.rules:
        suffix = file_suffix("territory2Rule", layout)
        path = f"territory2Models/{dev}/rules/{r.developer_name}{suffix}"
        files[path] = rule_xml(r, catalog)
    by_territory: dict[str, list[RuleAssociation]] = {}
    for a in spec.associations:
        by_territory.setdefault(a.territory, []).append(a)
    for t in spec.territories:
        suffix = file_suffix("territory2", layout)
        path = f"territory2Models/{dev}/territories/{t.developer_name}{suffix}"
        files[path] = territory_xml(t, by_territory.get(t.developer_name, []))
    settings = settings_xml(spec.settings)
    if settings is not None:
        files[f"settings/Territory2{file_suffix('settings', layout)}"] = settings
    return files


def manifest(spec: ModelSpec) -> str:
    """``package.xml`` listing the model, its territories, rules, types (and settings)."""
    dev = spec.developer_name
    members = {
        "Territory2Model": [dev],
        "Territory2": [f"{dev}.{t.developer_name}" for t in spec.territories],
        "Territory2Rule": [f"{dev}.{r.developer_name}" for r in spec.rules],
        "Territory2Type": [t.developer_name for t in spec.types],
        "Settings": ["Territory2"] if settings_xml(spec.settings) else [],
    }
    return package_xml(members, spec.settings.get(API_VERSION, DEFAULT_API_VERSION))


SFDX_SOURCE = "force-app/main/default"


def sfdx_project_json(version: str) -> str:
    return (
        "{\n"
        '  "packageDirectories": [{"path": "force-app", "default": true}],\n'
        '  "name": "territorial-export",\n'
        '  "namespace": "",\n'
        f'  "sourceApiVersion": "{version}"\n'
        "}\n"
    )


def project_files(
    spec: ModelSpec, layout: Layout, catalog: FieldCatalog | None = None
) -> dict[str, str]:
    """Everything an export folder holds, by relative path.

    mdapi: the metadata plus ``package.xml`` at the top, ready for
    ``sf project deploy start --metadata-dir DIR``. sfdx: a project (``sfdx-project.json``,
    ``force-app/main/default/...`` and ``manifest/package.xml``), ready for
    ``sf project deploy start --manifest manifest/package.xml``.
    """
    files = metadata_files(spec, layout, catalog)
    if layout == "mdapi":
        return {**files, "package.xml": manifest(spec)}
    version = spec.settings.get(API_VERSION, DEFAULT_API_VERSION)
    return {
        "sfdx-project.json": sfdx_project_json(version),
        "manifest/package.xml": manifest(spec),
        **{f"{SFDX_SOURCE}/{path}": text for path, text in files.items()},
    }


def write_metadata(
    spec: ModelSpec, folder: Path | str, *, layout: Layout, catalog: FieldCatalog | None = None
) -> list[Path]:
    """Write the export folder of ``spec`` (see :func:`project_files`); return the files."""
    base = Path(folder)
    written: list[Path] = []
    for rel, text in project_files(spec, layout, catalog).items():
        target = base / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
        written.append(target)
    return written


__all__ = [
    "SFDX_SOURCE",
    "export_warnings",
    "manifest",
    "metadata_files",
    "project_files",
    "renumber_filter",
    "salesforce_field",
    "write_metadata",
]
