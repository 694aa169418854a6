"""Territory2 metadata files without a database: reading, writing, errors, round trips."""

from __future__ import annotations

import filecmp
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territorial.core.model import ModelSpec, Rule, RuleAssociation, RuleItem, Territory
from territorial.core.model import TerritoryType as Type
from territorial.demo.metadata import production_model
from territorial.errors import InputFileError
from territorial.io.salesforce.metadata import read_metadata
from territorial.io.salesforce.writer import export_warnings, project_files, write_metadata

from .conftest import FIXTURES

SALESFORCE = FIXTURES / "salesforce"
needs_fixtures = pytest.mark.skipif(
    not SALESFORCE.is_dir(), reason=f"shared Salesforce fixtures not found at {SALESFORCE}"
)


def canonical(spec: ModelSpec) -> ModelSpec:
    """The spec with its lists in file order (metadata has no order of its own)."""
    return replace(
        spec,
        types=sorted(spec.types, key=lambda t: t.developer_name),
        territories=sorted(spec.territories, key=lambda t: t.developer_name),
        rules=sorted(spec.rules, key=lambda r: r.developer_name),
        associations=sorted(spec.associations, key=lambda a: (a.territory, a.rule)),
    )


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != "LICENSE.txt"
    }


@needs_fixtures
@pytest.mark.parametrize("layout", ["sfdx", "mdapi"])
def test_fixture_reads_as_the_scw_model(layout: str) -> None:
    read = read_metadata(SALESFORCE / f"scw-{layout}")
    spec = read.spec
    assert read.layout == layout and read.warnings == []
    assert (spec.developer_name, spec.label) == ("SCW_Territory_Model", "SCW Territory Model")
    assert {(t.developer_name, t.priority) for t in spec.types} == {
        ("City", 10),
        ("Country", 1),
        ("State", 5),
    }
    parents = {t.developer_name: (t.parent, t.type) for t in spec.territories}
    assert parents == {
        "USA": (None, "Country"),
        "Texas": ("USA", "State"),
        "Austin": ("Texas", "City"),
    }
    assert all(t.account_access_level == "Edit" for t in spec.territories)
    assert spec.rules == [
        Rule(
            "Fishing_Stores",
            (RuleItem(1, "Account.Name", "startsWith", "Cabela"),),
            None,
            True,
            "Fishing Stores",
        )
    ]
    assert spec.associations == [RuleAssociation("Fishing_Stores", "USA", True)]


@needs_fixtures
def test_fixture_exports_back_byte_for_byte(tmp_path: Path) -> None:
    mdapi = read_metadata(SALESFORCE / "scw-mdapi").spec
    write_metadata(mdapi, tmp_path / "m", layout="mdapi")
    assert _files(tmp_path / "m") == _files(SALESFORCE / "scw-mdapi")
    sfdx = read_metadata(SALESFORCE / "scw-sfdx").spec
    write_metadata(sfdx, tmp_path / "s", layout="sfdx")
    source = tmp_path / "s" / "force-app" / "main" / "default"
    assert _files(source) == _files(SALESFORCE / "scw-sfdx")
    assert (tmp_path / "s" / "manifest" / "package.xml").is_file()
    # The project root is accepted too.
    assert read_metadata(tmp_path / "s").spec == sfdx


@needs_fixtures
def test_layouts_convert_into_each_other(tmp_path: Path) -> None:
    spec = read_metadata(SALESFORCE / "scw-sfdx").spec
    write_metadata(spec, tmp_path, layout="mdapi")
    again = read_metadata(tmp_path).spec
    assert again == spec
    assert filecmp.cmp(
        tmp_path / "territory2Types" / "City.territory2Type",
        SALESFORCE / "scw-mdapi" / "territory2Types" / "City.territory2Type",
        shallow=False,
    )


def test_generated_model_round_trips_in_both_layouts(tmp_path: Path) -> None:
    spec = production_model(seed=3)
    for layout in ("sfdx",):  # mdapi: see test_salesforce_import
        write_metadata(spec, tmp_path / layout, layout=layout)  # type: ignore[arg-type]
        read = read_metadata(tmp_path / layout)
        assert canonical(read.spec) == canonical(spec), layout
    text = "\n".join(read.warnings)
    assert "rules with no items" in text and "inactive rules" in text
    assert "rules attached to no territory" in text and "types sharing priority 20" in text


def test_generated_model_is_production_shaped() -> None:
    spec = production_model(seed=0)
    assert len(spec.territories) >= 800 and len(spec.rules) >= 900
    parent = {t.developer_name: t.parent for t in spec.territories}

    def depth(name: str) -> int:
        return 1 if parent[name] is None else 1 + depth(parent[name])  # type: ignore[arg-type]

    assert max(depth(t) for t in parent) == 6
    assert sum(p is None for p in parent.values()) >= 4
    ops = [i.operator for r in spec.rules for i in r.items]
    assert {"contains", "equals", "notContain", "startsWith", "greaterOrEqual"} <= set(ops)
    assert any(
        r.boolean_filter and "(" in r.boolean_filter and " and " in r.boolean_filter
        for r in spec.rules
    )
    assert any(i.field.endswith("__c") for r in spec.rules for i in r.items)
    assert 900 <= max(len(i.value) for r in spec.rules for i in r.items) <= 1000


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@needs_fixtures
def test_every_problem_in_every_file_is_listed_with_file_line_and_element(tmp_path: Path) -> None:
    root = tmp_path / "md"
    shutil.copytree(SALESFORCE / "scw-mdapi", root)
    model = root / "territory2Models" / "SCW_Territory_Model"
    _write(
        model,
        "rules/Bad.territory2Rule",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Territory2Rule xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <active>yes</active>\n"
        "    <name>Bad</name>\n"
        "    <objectType>Account</objectType>\n"
        "    <ruleItems>\n"
        "        <field>Account.Name</field>\n"
        "        <operation>like</operation>\n"
        "        <value>x</value>\n"
        "    </ruleItems>\n"
        "</Territory2Rule>\n",
    )
    _write(model, "territories/Broken.territory2", "<Territory2><name>x</Territory2>")
    texas = model / "territories" / "Texas.territory2"
    texas.write_text(
        texas.read_text().replace("<caseAccessLevel>Edit", "<caseAccessLevel>All"), "utf-8"
    )
    with pytest.raises(InputFileError) as caught:
        read_metadata(root)
    problems = {(p.file, p.row, p.column) for p in caught.value.problems}
    rule = "territory2Models/SCW_Territory_Model/rules/Bad.territory2Rule"
    assert (rule, 3, "active") in problems
    assert (rule, 8, "operation") in problems
    assert (
        "territory2Models/SCW_Territory_Model/territories/Broken.territory2",
        1,
        None,
    ) in problems
    assert (
        "territory2Models/SCW_Territory_Model/territories/Texas.territory2",
        4,
        "caseAccessLevel",
    ) in problems
    message = str(caught.value)
    assert "unknown operator 'like'" in message and "Use one of: equals" in message
    assert "Nothing was changed" in message


def test_missing_required_elements_and_folders(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="has no territory2Models folder"):
        read_metadata(tmp_path)
    model = tmp_path / "territory2Models" / "M"
    _write(
        model,
        "M.territory2Model",
        "<Territory2Model><description>d</description></Territory2Model>",
    )
    _write(model, "territories/T.territory2", "<Territory2><name>T</name></Territory2>")
    _write(
        tmp_path,
        "territory2Types/G.territory2Type",
        "<Territory2Type><name>G</name><priority>high</priority></Territory2Type>",
    )
    with pytest.raises(InputFileError) as caught:
        read_metadata(tmp_path)
    found = {
        (p.file.rsplit("/", 1)[-1] if p.file else None, p.column) for p in caught.value.problems
    }
    assert ("M.territory2Model", "name") in found
    assert ("T.territory2", "territory2Type") in found
    assert ("G.territory2Type", "priority") in found


def test_settings_map_onto_model_settings(tmp_path: Path) -> None:
    spec = ModelSpec("M", "M", types=[Type("G", 1, "G")], territories=[Territory("T", "G", "T")])
    write_metadata(spec, tmp_path, layout="mdapi")
    _write(
        tmp_path,
        "settings/Territory2.settings",
        "<Territory2Settings><defaultAccountAccessLevel>read</defaultAccountAccessLevel>"
        "<defaultOpportunityAccessLevel>None</defaultOpportunityAccessLevel>"
        "<opportunityFilterSettings><enableFilter>true</enableFilter>"
        "<runOnCreate>false</runOnCreate></opportunityFilterSettings></Territory2Settings>",
    )
    territory = tmp_path / "territory2Models/M/territories/T.territory2"
    text = territory.read_text()
    for tag in ("accountAccessLevel", "opportunityAccessLevel"):
        text = text.replace(f"    <{tag}>Edit</{tag}>\n", "")
    territory.write_text(text)
    read = read_metadata(tmp_path).spec
    assert read.settings["opportunity_policy"] == "priority"
    assert read.settings["opportunity_filter"] == "on"
    assert read.settings["opportunity_filter_run_on_create"] == "false"
    t = read.territories[0]
    assert (t.account_access_level, t.opportunity_access_level) == ("Read", "None")
    files = project_files(read, "mdapi")
    assert "settings/Territory2.settings" in files
    assert "<members>Territory2</members>\n        <name>Settings</name>" in files["package.xml"]


names = st.from_regex(r"[A-Z][a-z0-9]{0,6}(_[a-z0-9]{1,4}){0,2}", fullmatch=True)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20).map(
    str.strip
)


@st.composite
def specs(draw: st.DrawFn) -> ModelSpec:
    territory_names = draw(st.lists(names, min_size=1, max_size=6, unique_by=str.lower))
    territories = []
    for i, dev in enumerate(territory_names):
        parent = draw(st.sampled_from([None, *territory_names[:i]]))
        territories.append(
            Territory(
                dev,
                "Geo",
                draw(text) or dev,
                parent,
                draw(text),
                account_access_level=draw(st.sampled_from(["Read", "Edit", "All"])),
                case_access_level=draw(st.sampled_from(["None", "Read", "Edit"])),
                custom=draw(st.dictionaries(st.just("Region__c"), text, max_size=1)),
            )
        )
    rule_names = draw(st.lists(names, max_size=4, unique_by=str.lower))
    rules = []
    for dev in rule_names:
        n = draw(st.integers(0, 3))
        items = tuple(
            RuleItem(
                k,
                "Account.BillingStateCode",
                draw(st.sampled_from(["equals", "contains", "notContain", "startsWith"])),
                draw(st.from_regex(r"[A-Z]{2}(,[A-Z]{2}){0,3}", fullmatch=True)),
            )
            for k in range(1, n + 1)
        )
        flt = (
            " or ".join(str(k) for k in range(1, n + 1)) if n > 1 and draw(st.booleans()) else None
        )
        rules.append(Rule(dev, items, flt, draw(st.booleans()), draw(text) or dev))
    associations = [
        RuleAssociation(r, t, draw(st.booleans()))
        for r in rule_names
        for t in draw(st.lists(st.sampled_from(territory_names), max_size=2, unique=True))
    ]
    associations.sort(key=lambda a: (a.territory, rule_names.index(a.rule)))
    return ModelSpec(
        draw(names),
        draw(text) or "Model",
        draw(text),
        types=[Type("Geo", draw(st.integers(0, 99)), "Geo")],
        territories=sorted(territories, key=lambda t: t.developer_name),
        rules=sorted(rules, key=lambda r: r.developer_name),
        associations=associations,
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=specs())
def test_any_model_round_trips(spec: ModelSpec, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("rt")
    write_metadata(spec, folder, layout="sfdx")
    read = read_metadata(folder).spec
    assert canonical(read) == canonical(spec)


def test_export_warns_past_salesforce_rule_limits() -> None:
    """Territorial has no rule limits; Salesforce has, so the export names what would fail."""
    zips = ",".join(f"{n:05d}" for n in range(200))  # 1,199 characters
    rules = [
        Rule("Long_Value", (RuleItem(1, "Account.BillingPostalCode", "startsWith", zips),)),
        Rule(
            "Many_Items",
            tuple(RuleItem(n, "Account.BillingCity", "equals", f"C{n}") for n in range(1, 12)),
            boolean_filter=" OR ".join(str(n) for n in range(1, 12)),
        ),
        *(Rule(f"R{n}", (RuleItem(1, "Account.Industry", "equals", "X"),)) for n in range(16)),
    ]
    spec = ModelSpec(
        "Limits",
        types=[Type("Geo", 1)],
        territories=[Territory("West", "Geo")],
        rules=rules,
        associations=[RuleAssociation(r.developer_name, "West") for r in rules],
    )
    text = "\n".join(export_warnings(spec))
    assert "more than 10 items, more than Salesforce allows: Many_Items" in text
    assert "longer than Salesforce's 1,000 characters" in text and "Long_Value" in text
    assert "more than 15 rules, more than Salesforce allows: West" in text
    assert export_warnings(production_model()) == []
