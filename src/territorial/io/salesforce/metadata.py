"""Territory2 metadata folders, both layouts, to and from a :class:`ModelSpec`.

Source format (sfdx) names files ``X.territory2Model-meta.xml``,
``territories/X.territory2-meta.xml``, ``rules/X.territory2Rule-meta.xml``,
``territory2Types/X.territory2Type-meta.xml`` and ``settings/Territory2.settings-meta.xml``;
the Metadata API format (mdapi) drops ``-meta.xml`` and adds ``package.xml``. A developer
name is the file name; ``<name>`` is the label.

Reading collects every problem of every file (file, line, element, fix) and raises one
:class:`~territorial.errors.InputFileError`; it writes nothing anywhere. What is legal but
suspicious (a rule with no items, duplicate type priorities...) comes back as warnings.

Settings of ``Territory2.settings`` and model custom fields are kept in the model's
``settings`` (see :data:`SETTING_KEYS`), so they export back unchanged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from territorial.core.model import (
    AccessLevel,
    ModelSpec,
    Rule,
    RuleAssociation,
    RuleItem,
    Territory,
    TerritoryType,
)
from territorial.core.rules.operators import Operator, parse_operator
from territorial.errors import InputFileError, Problem
from territorial.io.salesforce.locate import locate_metadata
from territorial.io.salesforce.package import (
    DEFAULT_API_VERSION,
    read_package_version,
)
from territorial.io.salesforce.xmltree import (
    XmlDoc,
    XmlSyntaxError,
    parse_xml,
)

Layout = Literal["sfdx", "mdapi"]
LAYOUTS: tuple[Layout, ...] = ("sfdx", "mdapi")

# Model settings that hold Salesforce data (documented in docs/salesforce.md).
API_VERSION = "salesforce_api_version"
OPPORTUNITY_FILTER = "opportunity_filter"  # on | off
RUN_ON_CREATE = "opportunity_filter_run_on_create"  # true | false
APEX_CLASS = "opportunity_filter_apex_class"
DEFAULT_ACCESS = {
    "defaultAccountAccessLevel": "default_account_access_level",
    "defaultCaseAccessLevel": "default_case_access_level",
    "defaultContactAccessLevel": "default_contact_access_level",
    "defaultOpportunityAccessLevel": "default_opportunity_access_level",
}
CUSTOM_PREFIX = "custom:"
SETTING_KEYS = (
    API_VERSION,
    OPPORTUNITY_FILTER,
    RUN_ON_CREATE,
    APEX_CLASS,
    *DEFAULT_ACCESS.values(),
)

ACCESS_LEVELS: dict[str, tuple[str, ...]] = {
    "accountAccessLevel": ("Read", "Edit", "All"),
    "caseAccessLevel": ("None", "Read", "Edit"),
    "contactAccessLevel": ("None", "Read", "Edit"),
    "opportunityAccessLevel": ("None", "Read", "Edit"),
}
ACCESS_ATTR = {
    "accountAccessLevel": "account_access_level",
    "caseAccessLevel": "case_access_level",
    "contactAccessLevel": "contact_access_level",
    "opportunityAccessLevel": "opportunity_access_level",
}
_KNOWN = {
    "Territory2Type": {"name", "priority", "description"},
    "Territory2Model": {"name", "description", "customFields"},
    "Territory2": {
        *ACCESS_LEVELS,
        "name",
        "description",
        "customFields",
        "parentTerritory",
        "ruleAssociations",
        "territory2Type",
    },
    "Territory2Rule": {"active", "booleanFilter", "name", "objectType", "ruleItems"},
    "Territory2Settings": {
        *DEFAULT_ACCESS,
        "enableTerritoryManagement2",
        "opportunityFilterSettings",
    },
}
_OPERATORS = ", ".join(o.value for o in Operator)


@dataclass
class MetadataModel:
    """What was read from a metadata folder: the model and everything worth saying."""

    spec: ModelSpec
    layout: Layout
    root: Path
    files: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Reader:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def load(self, path: Path, root_tag: str) -> XmlDoc | None:
        self.files += 1
        rel = self.rel(path)
        try:
            doc = parse_xml(path.read_bytes(), rel)
        except XmlSyntaxError as err:
            self.problems.append(
                Problem(
                    f"not well-formed XML: {err}",
                    row=err.line,
                    hint="Fix the XML (a retrieve from Salesforce gives valid files).",
                    file=rel,
                )
            )
            return None
        except OSError as err:
            self.problems.append(Problem(f"cannot be read: {err.strerror}", file=rel))
            return None
        if doc.root.tag != root_tag:
            doc.problem(
                f"the root element is <{doc.root.tag}>, expected <{root_tag}>",
                doc.root,
                doc.root.tag,
                "Check that the file sits in the right folder with the right suffix.",
            )
        unknown = sorted({c.tag for c in doc.root} - _KNOWN[root_tag])
        if unknown and doc.root.tag == root_tag:
            self.warnings.append(f"{rel}: ignored element(s) {', '.join(unknown)}")
        return doc

    def finish(self, doc: XmlDoc | None) -> None:
        if doc is not None:
            self.problems.extend(doc.problems)


def file_suffix(kind: str, layout: Layout) -> str:
    return f".{kind}-meta.xml" if layout == "sfdx" else f".{kind}"


def _stem(path: Path, suffix: str) -> str:
    return path.name[: -len(suffix)]


def _files(folder: Path, suffix: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.endswith(suffix)), key=lambda p: p.name)


_KINDS = ("territory2Model", "territory2", "territory2Rule", "territory2Type", "settings")


def _layout(root: Path, model_dir: Path) -> Layout:
    """The layout of a model's files; files of both layouts side by side are an error
    (importing one set would silently drop the other)."""
    folders = (
        model_dir,
        model_dir / "rules",
        model_dir / "territories",
        root / "territory2Types",
        root / "settings",
    )
    files: dict[Layout, list[Path]] = {"sfdx": [], "mdapi": []}
    for folder in (f for f in folders if f.is_dir()):
        for path in sorted(folder.iterdir()):
            for layout in LAYOUTS:
                if any(path.name.endswith(file_suffix(k, layout)) for k in _KINDS):
                    files[layout].append(path)
    if files["sfdx"] and files["mdapi"]:
        raise InputFileError(
            str(root),
            [
                Problem(
                    f"holds Territory2 files in both layouts: {len(files['sfdx'])} in source "
                    f"format (e.g. {files['sfdx'][0].relative_to(root).as_posix()}) and "
                    f"{len(files['mdapi'])} in Metadata API format (e.g. "
                    f"{files['mdapi'][0].relative_to(root).as_posix()})",
                    hint="Keep one layout in the folder: move the other files out (or into "
                    "a folder of their own and import that), then import again. "
                    "'sf project convert source' and 'sf project convert mdapi' convert "
                    "between the layouts.",
                )
            ],
        )
    return "sfdx" if files["sfdx"] else "mdapi"


def _choose_model(reader: _Reader, models: Path, model: str | None) -> Path:
    dirs = sorted(p for p in models.iterdir() if p.is_dir())
    if model is not None:
        chosen = [p for p in dirs if p.name.lower() == model.lower()]
        if chosen:
            return chosen[0]
        names = ", ".join(p.name for p in dirs) or "none"
        raise InputFileError(
            reader.rel(models),
            [Problem(f"has no model {model!r} (models: {names})", hint="Pick one of them.")],
        )
    if len(dirs) == 1:
        return dirs[0]
    names = ", ".join(p.name for p in dirs) or "none"
    raise InputFileError(
        str(models),
        [
            Problem(
                f"holds {len(dirs)} models ({names})" if dirs else "holds no model folder",
                hint="Choose one with --model NAME." if dirs else "Retrieve a Territory2Model.",
            )
        ],
    )


def read_metadata(path: Path | str, *, model: str | None = None) -> MetadataModel:
    """Read one Territory2 model (and the types and settings beside it) from a folder.

    ``path`` is the metadata folder or a folder above it (see
    :func:`~territorial.io.salesforce.locate.locate_metadata`). Raise
    :class:`InputFileError` listing every problem of every file; nothing is written.
    """
    located = locate_metadata(path)
    root = located.root
    reader = _Reader(root, warnings=list(located.notes))
    model_dir = _choose_model(reader, root / "territory2Models", model)
    layout = _layout(root, model_dir)
    dev = model_dir.name
    spec = ModelSpec(developer_name=dev)
    model_file = model_dir / f"{dev}{file_suffix('territory2Model', layout)}"
    if model_file.is_file():
        _read_model(reader, model_file, spec)
    else:
        reader.problems.append(
            Problem(
                f"the model file {model_file.name} is missing",
                hint="Retrieve the Territory2Model along with its territories and rules.",
                file=reader.rel(model_dir),
            )
        )
    settings = _read_settings(reader, root, layout)
    spec.settings.update(settings)
    version = _api_version(root, located.given)
    if version and version != DEFAULT_API_VERSION:  # the default is what exports write
        spec.settings[API_VERSION] = version
    suffix = file_suffix("territory2Type", layout)
    spec.types = [
        t
        for p in _files(root / "territory2Types", suffix)
        if (t := _read_type(reader, p, _stem(p, suffix))) is not None
    ]
    suffix = file_suffix("territory2Rule", layout)
    spec.rules = [
        r
        for p in _files(model_dir / "rules", suffix)
        if (r := _read_rule(reader, p, _stem(p, suffix))) is not None
    ]
    suffix = file_suffix("territory2", layout)
    for p in _files(model_dir / "territories", suffix):
        _read_territory(reader, p, _stem(p, suffix), spec)
    if reader.problems:
        raise InputFileError(str(root), reader.problems)
    result = MetadataModel(spec, layout, root, reader.files, reader.warnings)
    result.warnings.extend(model_warnings(spec))
    return result


def _api_version(root: Path, given: Path) -> str | None:
    for candidate in (root / "package.xml", given / "manifest" / "package.xml"):
        if candidate.is_file():
            return read_package_version(candidate.read_bytes(), candidate.name)
    return None


def _custom_fields(doc: XmlDoc, parent: ET.Element) -> dict[str, str]:
    values: dict[str, str] = {}
    for element in parent.findall("customFields"):
        name = doc.required(element, "name")
        if name:
            values[name] = doc.text(element, "value") or ""
    return values


def _read_model(reader: _Reader, path: Path, spec: ModelSpec) -> None:
    doc = reader.load(path, "Territory2Model")
    if doc is not None:
        spec.name = doc.required(doc.root, "name", "Give the model's label in <name>.")
        spec.description = doc.text(doc.root, "description") or ""
        for key, value in _custom_fields(doc, doc.root).items():
            spec.settings[CUSTOM_PREFIX + key] = value
    reader.finish(doc)


def _read_settings(reader: _Reader, root: Path, layout: Layout) -> dict[str, str]:
    path = root / "settings" / f"Territory2{file_suffix('settings', layout)}"
    if not path.is_file():
        return {}
    doc = reader.load(path, "Territory2Settings")
    settings: dict[str, str] = {}
    if doc is not None:
        for tag, key in DEFAULT_ACCESS.items():
            value = doc.text(doc.root, tag)
            if value:
                settings[key] = _access(doc, doc.root, tag[7].lower() + tag[8:], tag, value)
        opp = doc.root.find("opportunityFilterSettings")
        if opp is not None:
            enabled = doc.boolean(opp, "enableFilter", default=False)
            settings[OPPORTUNITY_FILTER] = "on" if enabled else "off"
            if doc.text(opp, "runOnCreate") is not None:
                settings[RUN_ON_CREATE] = str(doc.boolean(opp, "runOnCreate")).lower()
            apex = doc.text(opp, "apexClassName")
            if apex:
                settings[APEX_CLASS] = apex
                reader.warnings.append(
                    f"{doc.file}: the opportunity filter runs Apex class {apex!r}; Territorial "
                    "assigns opportunities by the model's opportunity_policy instead"
                )
            if enabled:
                settings["opportunity_policy"] = "priority"
    reader.finish(doc)
    return settings


def _access(doc: XmlDoc, parent: ET.Element, kind: str, tag: str, value: str) -> str:
    allowed = ACCESS_LEVELS[kind]
    for level in allowed:
        if level.lower() == value.lower():
            return level
    doc.problem(
        f"<{tag}> {value!r} is not an access level",
        parent.find(tag),
        tag,
        f"Use one of: {', '.join(allowed)}.",
    )
    return allowed[-1]


def _read_type(reader: _Reader, path: Path, dev: str) -> TerritoryType | None:
    doc = reader.load(path, "Territory2Type")
    result = None
    if doc is not None:
        label = doc.required(doc.root, "name")
        raw = doc.required(doc.root, "priority", "Give an integer <priority>.")
        priority = 0
        if raw:
            try:
                priority = int(raw)
            except ValueError:
                doc.problem(
                    f"<priority> {raw!r} is not an integer",
                    doc.root.find("priority"),
                    "priority",
                    "Write a whole number, e.g. <priority>10</priority>.",
                )
        result = TerritoryType(dev, priority, label, doc.text(doc.root, "description") or "")
    reader.finish(doc)
    return result


def _read_rule(reader: _Reader, path: Path, dev: str) -> Rule | None:
    doc = reader.load(path, "Territory2Rule")
    if doc is None:
        return None
    root = doc.root
    active = doc.boolean(root, "active")
    label = doc.required(root, "name", "Give the rule's label in <name>.")
    object_type = doc.required(root, "objectType", "Write <objectType>Account</objectType>.")
    if object_type and object_type.lower() != "account":
        doc.problem(
            f"<objectType> {object_type!r} is not supported",
            root.find("objectType"),
            "objectType",
            "Territory2 rules assign accounts: write <objectType>Account</objectType>.",
        )
    items: list[RuleItem] = []
    for number, element in enumerate(root.findall("ruleItems"), start=1):
        fld = doc.required(element, "field", "Name the field, e.g. Account.BillingStateCode.")
        raw_op = doc.required(element, "operation", f"Use one of: {_OPERATORS}.")
        op = parse_operator(raw_op) if raw_op else None
        if raw_op and op is None:
            doc.problem(
                f"unknown operator {raw_op!r} in rule item {number}",
                element.find("operation"),
                "operation",
                f"Use one of: {_OPERATORS}.",
            )
        value = doc.text(element, "value") or ""
        items.append(RuleItem(number, fld, op.value if op else raw_op, value))
    boolean_filter = doc.text(root, "booleanFilter") or None
    reader.finish(doc)
    return Rule(dev, tuple(items), boolean_filter, active, label)


def _read_territory(reader: _Reader, path: Path, dev: str, spec: ModelSpec) -> None:
    doc = reader.load(path, "Territory2")
    if doc is None:
        return
    root = doc.root
    levels: dict[str, str] = {}
    for tag, attr in ACCESS_ATTR.items():
        value = doc.text(root, tag)
        default = spec.settings.get(DEFAULT_ACCESS["default" + tag[0].upper() + tag[1:]], "Edit")
        levels[attr] = _access(doc, root, tag, tag, value) if value else default

    def level(attr: str) -> AccessLevel:
        return cast(AccessLevel, levels[attr])

    territory = Territory(
        developer_name=dev,
        type=doc.required(root, "territory2Type", "Name the territory type's developer name."),
        name=doc.required(root, "name", "Give the territory's label in <name>."),
        parent=doc.text(root, "parentTerritory") or None,
        description=doc.text(root, "description") or "",
        custom=_custom_fields(doc, root),
        account_access_level=level("account_access_level"),
        opportunity_access_level=level("opportunity_access_level"),
        case_access_level=level("case_access_level"),
        contact_access_level=level("contact_access_level"),
    )
    spec.territories.append(territory)
    for element in root.findall("ruleAssociations"):
        rule = doc.required(element, "ruleName", "Name the rule's developer name.")
        inherited = doc.boolean(element, "inherited", default=False)
        if rule:
            spec.associations.append(RuleAssociation(rule, dev, inherited))
    reader.finish(doc)


def model_warnings(spec: ModelSpec) -> list[str]:
    """What is legal but worth a look in a model: rules with no items, inactive rules,
    rules attached to no territory, duplicate type priorities.

    >>> spec = ModelSpec("M", types=[TerritoryType("A", 1), TerritoryType("B", 1)],
    ...                  rules=[Rule("R")])
    >>> for w in model_warnings(spec): print(w)
    rules with no items (they match no account): R
    rules attached to no territory: R
    types sharing priority 1 (opportunity ties stay unassigned): A, B
    """
    warnings: list[str] = []
    attached = {a.rule for a in spec.associations}
    groups = (
        ("rules with no items (they match no account)", [r for r in spec.rules if not r.items]),
        ("inactive rules", [r for r in spec.rules if not r.active]),
        (
            "rules attached to no territory",
            [r for r in spec.rules if r.developer_name not in attached],
        ),
    )
    for what, rules in groups:
        if rules:
            warnings.append(f"{what}: {listing(r.developer_name for r in rules)}")
    counts = Counter(t.priority for t in spec.types)
    for priority, count in sorted(counts.items()):
        if count > 1:
            names = [t.developer_name for t in spec.types if t.priority == priority]
            warnings.append(
                f"types sharing priority {priority} (opportunity ties stay unassigned): "
                + listing(names)
            )
    return warnings


def listing(names: Iterable[str], limit: int = 10) -> str:
    items = list(names)
    shown = ", ".join(items[:limit])
    return shown + (
        f" and {len(items) - limit} more ({len(items)} in all)" if len(items) > limit else ""
    )


__all__ = [
    "ACCESS_ATTR",
    "LAYOUTS",
    "SETTING_KEYS",
    "Layout",
    "MetadataModel",
    "file_suffix",
    "listing",
    "model_warnings",
    "read_metadata",
]
