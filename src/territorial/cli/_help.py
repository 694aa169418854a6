"""Placeholders in ``--help``: ``territorial carve [OPTIONS] MODEL``, ``--parent TERRITORY``,
``--units [account|zip3|zip5]``, as people read them in every other command line tool.

Typer names an argument ``{model}`` in usage lines and an option's value by its Python type
(``<str>``, ``<path>``); :func:`tidy` gives every argument and option of the command tree a
placeholder instead: the one its definition sets (``metavar=``, e.g. the choices of an
option that takes a few words), else the one its name has below, else by its type (``FILE``,
``N``, ``DATE``), else its name in capitals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from typer.core import TyperArgument, TyperOption

PLACEHOLDERS = {
    "against": "MODEL",
    "as_of": "DATE",
    "balance": "MEASURES",
    "database": "URL",
    "description": "TEXT",
    "developer_name": "NAME",
    "filter": "FILTER",
    "item": "'FIELD OPERATOR VALUE'",
    "keep": "WEIGHT",
    "label": "TEXT",
    "manager_role": "ROLE",
    "map_field": "OLD=NEW",
    "max_distance": "KM",
    "parent": "TERRITORY",
    "potential": "FORMULA",
    "tolerance": "TOLERANCE",
    "workload": "FORMULA",
}
"""Placeholders by parameter name, where the name alone would not say what to give."""

_BY_TYPE: dict[type, str] = {Path: "FILE", int: "N", date: "DATE", datetime: "DATE"}


def choices(values: Iterable[str]) -> str:
    """The placeholder of an option that takes one of a few words: ``[all|any]``.

    >>> choices(["account", "zip3", "zip5"])
    '[account|zip3|zip5]'
    """
    return "[" + "|".join(values) + "]"


def placeholder(param: Any) -> str:
    """The placeholder of one argument or option that sets none (see the module)."""
    annotation = param.type_descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return choices(str(m.value) for m in annotation)
    if param.name in PLACEHOLDERS:
        return PLACEHOLDERS[param.name]
    if isinstance(param, TyperOption):
        for kind, shown in _BY_TYPE.items():
            if isinstance(annotation, type) and issubclass(annotation, kind):
                return shown
    return str(param.name).rstrip("_").upper()  # type_ is TYPE


class _Argument(TyperArgument):
    """An argument shown as ``MODEL`` (required) or ``[MODEL]`` (optional) in the usage line,
    and by its placeholder alone in the list of arguments."""

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.metavar or placeholder(self)
        shown = name if self.required else f"[{name}]"
        return [shown + ("..." if self.nargs != 1 else "")]

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def tidy(command: Any) -> None:
    """Give every argument and option of ``command`` and the commands below it its
    placeholder (flags take no value and keep none)."""
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)
    for param in command.params:
        if isinstance(param, TyperArgument):
            param.metavar = param.metavar or placeholder(param)
            param.__class__ = _Argument
        elif isinstance(param, TyperOption) and not (param.is_flag or param.count):
            param.metavar = param.metavar or placeholder(param)


__all__ = ["PLACEHOLDERS", "choices", "placeholder", "tidy"]
