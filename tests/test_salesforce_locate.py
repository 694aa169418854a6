"""Finding the metadata folder in what the user names: sfdx project roots, force-app,
unzipped retrieves; clear errors when there is none, several, or both layouts mixed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from territorial.cli.app import app
from territorial.core.model import ModelSpec, Rule, RuleAssociation, RuleItem, Territory
from territorial.core.model import TerritoryType as Type
from territorial.errors import InputFileError
from territorial.io.salesforce.locate import locate_metadata
from territorial.io.salesforce.metadata import read_metadata
from territorial.io.salesforce.writer import write_metadata

runner = CliRunner()
SPEC = ModelSpec(
    "FY27",
    "FY27",
    types=[Type("Geo", 10, "Geo")],
    territories=[Territory("West", "Geo", "West")],
    rules=[Rule("CA", (RuleItem(1, "Account.BillingStateCode", "equals", "CA"),), name="CA")],
    associations=[RuleAssociation("CA", "West")],
)
SOURCE = "force-app/main/default"


def project(folder: Path) -> Path:
    write_metadata(SPEC, folder, layout="sfdx")
    return folder


def problem(path: Path | str) -> str:
    with pytest.raises(InputFileError) as caught:
        locate_metadata(path)
    return str(caught.value)


@pytest.mark.parametrize("given", ["", "force-app", "force-app/main", SOURCE, "sfdx-project.json"])
def test_an_exported_sfdx_project_is_found_from_any_level(tmp_path: Path, given: str) -> None:
    root = project(tmp_path / "out")
    found = locate_metadata(root / given)
    assert found.root == root / SOURCE and found.notes == ()
    assert read_metadata(root / given).spec.developer_name == "FY27"


def test_folders_above_the_project_do_not_matter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hidden folder or '..' above the named folder is not a folder to skip."""
    root = project(tmp_path / ".work" / "out")
    (tmp_path / ".work" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / ".work" / "sub")
    assert locate_metadata("../out").root == Path("../out") / SOURCE
    assert locate_metadata(root).root == root / SOURCE


def test_package_directories_come_first_and_the_other_folder_is_named(tmp_path: Path) -> None:
    root = project(tmp_path / "out")
    write_metadata(SPEC, root / "mdapi_out", layout="mdapi")
    found = locate_metadata(root)
    assert found.root == root / SOURCE
    (note,) = found.notes
    assert "mdapi_out (Metadata API format)" in note and f"imported {SOURCE}" in note
    assert read_metadata(root).layout == "sfdx"
    assert read_metadata(root / "mdapi_out").layout == "mdapi"
    # Package directories elsewhere than force-app, as sfdx-project.json lists them.
    shutil.move(root / "force-app", root / "territories-src")
    (root / "sfdx-project.json").write_text(
        json.dumps({"packageDirectories": [{"path": "territories-src", "default": True}]})
    )
    assert locate_metadata(root).root == root / "territories-src" / "main" / "default"


def test_several_metadata_folders_outside_a_project_are_listed(tmp_path: Path) -> None:
    root = project(tmp_path / "out")
    write_metadata(SPEC, root / "mdapi_out", layout="mdapi")
    (root / "sfdx-project.json").unlink()
    text = problem(root)
    assert "holds several Territory2 metadata folders" in text
    assert f"{SOURCE} (source format); mdapi_out (Metadata API format)" in text
    assert f"territorial salesforce import {root / SOURCE}" in text


def test_nothing_found_says_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "proj" / "force-app").mkdir(parents=True)
    (tmp_path / "proj" / "sfdx-project.json").write_text(
        '{"packageDirectories": [{"path": "force-app"}]}'
    )
    text = problem(tmp_path / "proj")
    assert "has no territory2Models folder" in text
    assert "territory2Models/ in it" in text
    assert "below the package directories of sfdx-project.json (force-app)" in text
    assert "up to 6 folders below it (hidden folders and node_modules skipped)" in text
    assert "force-app/main/default" in text  # the fix names the folder to give
    (tmp_path / "retrieve" / "territory2Types").mkdir(parents=True)
    (tmp_path / "retrieve" / "unpackaged.zip").write_bytes(b"PK")
    text = problem(tmp_path / "retrieve")
    assert "it has territory2Types/ but no territory2Models/" in text
    assert "Unzip unpackaged.zip first" in text
    assert "is a zip file" in problem(tmp_path / "retrieve" / "unpackaged.zip")
    assert "does not exist" in problem(tmp_path / "nowhere")
    (tmp_path / "proj" / "sfdx-project.json").write_text("{not json")
    assert "cannot be read as JSON" in problem(tmp_path / "proj")


def test_files_of_both_layouts_in_one_folder_are_refused(tmp_path: Path) -> None:
    root = project(tmp_path / "out") / SOURCE
    write_metadata(SPEC, tmp_path / "m", layout="mdapi")
    shutil.copy(
        tmp_path / "m" / "territory2Models/FY27/territories/West.territory2",
        root / "territory2Models/FY27/territories/East.territory2",
    )
    with pytest.raises(InputFileError) as caught:
        read_metadata(tmp_path / "out")
    text = str(caught.value)
    assert "holds Territory2 files in both layouts" in text
    assert (
        "1 in Metadata API format (e.g. territory2Models/FY27/territories/East.territory2)" in text
    )
    assert "Keep one layout in the folder" in text


def test_cli_round_trip_through_the_project_root(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--database", db_url, *args])
        return result.exit_code, " ".join((result.stderr + result.stdout).split())

    write_metadata(SPEC, tmp_path / "src", layout="mdapi")
    assert cli("salesforce", "import", "src")[0] == 0
    code, out = cli("salesforce", "export", "FY27", "out", "--format", "sfdx")
    assert code == 0, out
    for n, folder in enumerate(["out", "out/force-app", f"out/{SOURCE}"]):
        code, out = cli("salesforce", "import", folder, "--name", f"Copy {n}")
        assert code == 0, out
        assert f"Imported Copy_{n} from out/{SOURCE} (sfdx" in out
        assert "1 territory, 1 rule with 1 item" in out
