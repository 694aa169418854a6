"""Find the Territory2 metadata folder inside the folder a user names.

The metadata folder is the one holding ``territory2Models/`` (and usually
``territory2Types/``). Users name it directly, or a folder above it:

* an sfdx project root: the package directories listed in ``sfdx-project.json``
  (``"packageDirectories": [{"path": "force-app"}]``) are searched first, so a project
  that also holds a converted Metadata API copy imports its source;
* any other folder (``force-app``, a folder holding an unzipped retrieve...): the folders
  below it, up to :data:`MAX_DEPTH` levels, hidden folders and ``node_modules`` skipped.

When nothing is found, the error lists what was looked for; when several metadata folders
are found, it lists them (with their layouts) and asks for one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from territorial.errors import InputFileError, Problem

MODELS = "territory2Models"
TYPES = "territory2Types"
PROJECT_FILE = "sfdx-project.json"
MAX_DEPTH = 6
"""How many folder levels below the given folder a metadata folder may sit."""
SKIPPED = ("node_modules",)

_HINT = (
    "Give the folder that holds territory2Models/: an sfdx project root, "
    "force-app/main/default, or an unzipped Metadata API retrieve (with package.xml)."
)


@dataclass(frozen=True)
class MetadataFolder:
    """Where the metadata is: ``root`` holds ``territory2Models``; ``given`` is the folder
    the user named (a project root has ``manifest/package.xml``); ``notes`` say what else
    was found."""

    root: Path
    given: Path
    notes: tuple[str, ...] = ()


def _rel(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix() or "."


def layouts_below(root: Path) -> set[str]:
    """``sfdx`` and/or ``mdapi``: the layouts of the model files in ``root/territory2Models``.

    Source files end in ``-meta.xml`` (``M.territory2Model-meta.xml``), Metadata API files
    do not (``M.territory2Model``).
    """
    found: set[str] = set()
    models = root / MODELS
    for model_dir in (p for p in models.iterdir() if p.is_dir()):
        for path in model_dir.iterdir():
            if path.name.endswith(".territory2Model-meta.xml"):
                found.add("sfdx")
            elif path.name.endswith(".territory2Model"):
                found.add("mdapi")
    return found


def describe(root: Path, base: Path) -> str:
    """``force-app/main/default (source format)``: a metadata folder for messages."""
    names = {"sfdx": "source format", "mdapi": "Metadata API format"}
    kinds = [names[k] for k in sorted(layouts_below(root), reverse=True)]
    return f"{_rel(root, base)} ({' and '.join(kinds) or 'no model files'})"


def _search(base: Path) -> tuple[list[Path], list[Path]]:
    """Folders below ``base`` (itself included) that hold ``territory2Models``, and those
    that hold only ``territory2Types`` (a retrieve that missed the models)."""
    models: list[Path] = []
    types: list[Path] = []
    for folder, dirs, _files in os.walk(base):
        here = Path(folder)
        depth = len(here.relative_to(base).parts)
        if MODELS in dirs:
            models.append(here)
        elif TYPES in dirs:
            types.append(here)
        dirs[:] = sorted(
            d
            for d in dirs
            if depth < MAX_DEPTH
            and d not in (MODELS, TYPES)
            and not d.startswith(".")
            and d not in SKIPPED
        )
    return sorted(models), sorted(types)


def _package_directories(project: Path) -> list[str]:
    """The ``path`` of each entry of ``packageDirectories`` in ``sfdx-project.json``."""
    try:
        data = json.loads(project.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputFileError(
            str(project),
            [Problem(f"cannot be read as JSON: {err}", hint="Fix sfdx-project.json.")],
        ) from err
    entries = data.get("packageDirectories") if isinstance(data, dict) else None
    paths = [
        e["path"]
        for e in entries or []
        if isinstance(e, dict) and isinstance(e.get("path"), str) and e["path"].strip()
    ]
    if not paths:
        raise InputFileError(
            str(project),
            [
                Problem(
                    "lists no packageDirectories",
                    hint='Add e.g. "packageDirectories": [{"path": "force-app", "default": true}].',
                )
            ],
        )
    return paths


def _several(base: Path, found: list[Path], where: str) -> InputFileError:
    listed = "; ".join(describe(p, base) for p in found)
    return InputFileError(
        str(base),
        [
            Problem(
                f"holds several Territory2 metadata folders{where}: {listed}",
                hint=f"Give the one to import, e.g. 'territorial salesforce import {found[0]}'.",
            )
        ],
    )


def _not_found(base: Path, looked: list[str], types: list[Path]) -> InputFileError:
    hint = _HINT
    if types:
        where = "it" if types[0] == base else _rel(types[0], base)
        hint = (
            f"{where} has {TYPES}/ but no {MODELS}/: retrieve the Territory2Model with its "
            "territories and rules too (package.xml members Territory2Model, Territory2, "
            "Territory2Rule and Territory2Type)."
        )
    zips = sorted(p.name for p in base.glob("*.zip"))
    if zips:
        hint += f" Unzip {', '.join(zips)} first."
    return InputFileError(
        str(base),
        [Problem(f"has no {MODELS} folder; looked for " + "; ".join(looked), hint=hint)],
    )


def _as_folder(base: Path) -> Path:
    if base.is_dir():
        return base
    if base.is_file() and base.name in (PROJECT_FILE, "package.xml"):
        return base.parent
    if not base.exists():
        problem = Problem("does not exist", hint="Check the path. " + _HINT)
    elif base.suffix.lower() == ".zip":
        problem = Problem(
            "is a zip file",
            hint=f"Unzip it (e.g. 'unzip {base.name} -d {base.stem}') and give the folder.",
        )
    else:
        problem = Problem("is a file, not a folder", hint=_HINT)
    raise InputFileError(str(base), [problem])


def locate_metadata(path: Path | str) -> MetadataFolder:
    """The metadata folder in or below ``path``; see the module docstring for the search.

    Raise :class:`InputFileError` saying what was looked for when there is none, and
    listing them when there are several to choose from.
    """
    base = _as_folder(Path(path))
    if (base / MODELS).is_dir():
        return MetadataFolder(base, base)
    looked = [f"{MODELS}/ in it"]
    notes: list[str] = []
    found, types = _search(base)
    if (base / PROJECT_FILE).is_file():
        packages = _package_directories(base / PROJECT_FILE)
        names = ", ".join(packages)
        looked.append(f"below the package directories of {PROJECT_FILE} ({names})")
        inside = [f for f in found if any(_is_below(f, base / p) for p in packages)]
        if len(inside) > 1:
            raise _several(base, inside, f" in the package directories ({names})")
        if inside:
            notes = [
                f"{describe(other, base)} also holds Territory2 metadata, outside the package "
                f"directories of {PROJECT_FILE}: imported {_rel(inside[0], base)}; to import "
                "the other, give its folder"
                for other in found
                if other != inside[0]
            ]
            return MetadataFolder(inside[0], base, tuple(notes))
        if found:
            notes.append(
                f"the package directories of {PROJECT_FILE} ({names}) hold no {MODELS}; "
                f"imported {_rel(found[0], base)}, found elsewhere in the project"
            )
    looked.append(
        f"{MODELS}/ up to {MAX_DEPTH} folders below it (hidden folders and node_modules skipped)"
    )
    if len(found) > 1:
        raise _several(base, found, "")
    if not found:
        raise _not_found(base, looked, types)
    return MetadataFolder(found[0], base, tuple(notes))


def _is_below(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


__all__ = ["MAX_DEPTH", "MetadataFolder", "describe", "layouts_below", "locate_metadata"]
