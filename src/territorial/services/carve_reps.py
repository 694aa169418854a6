"""Carving for reps: the reps to carve for (``Rep``, read from a file by ``read_reps``),
the checks of the rep options and the resolution of each rep to a user with a home and a
capacity (``RepHome``), gathered into a ``RepPlan``: each carved territory's capacity
share, fixed centre and owner.

From scratch (``plan_from_scratch``), ``territorial.services.carve`` carves one territory
per rep, centred on the rep's home, and makes the rep its ``OWNER_ROLE``. Rebalancing
(``plan_rebalance``), every current leaf keeps its place and takes its owners' capacity;
a listed rep who owns no leaf gets a new territory centred on their home.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core import tree
from territorial.errors import NotFound, ValidationError
from territorial.io.tabular import fail, read_table
from territorial.services import lookup
from territorial.store.schema import (
    SalesUser,
    TerritoryModelRow,
    TerritoryRow,
    UserAssignmentRow,
)

OWNER_ROLE = "Territory Owner"


@dataclass(frozen=True)
class Rep:
    """A rep to carve a territory for; missing values come from the user's record."""

    user: str
    """User id, email or exact name."""
    home_latitude: float | None = None
    home_longitude: float | None = None
    capacity: float | None = None
    file: str | None = None
    """The reps file the rep was read from (errors name it), if any."""
    row: int | None = None
    """The rep's row in that file (the header is row 1)."""


@dataclass(frozen=True)
class RepPlan:
    """Per carved territory (current leaves first, then new ones): capacity share, fixed
    centre (None: free, at its accounts' centroid), owners' user ids and names; and the
    reps to write as owners of the new territories, in order."""

    shares: list[float]
    homes: list[tuple[float, float] | None]
    owners: list[str | None]
    new_owners: list[RepHome]
    owner_names: list[str | None]

    @property
    def count(self) -> int:
        return len(self.shares)


@dataclass(frozen=True)
class RepHome:
    """A rep resolved to a user: pk, id, home location, capacity share and name."""

    pk: int
    id: str
    latitude: float
    longitude: float
    capacity: float
    name: str = ""


REPS_COLUMNS = ("user", "home_latitude", "home_longitude", "capacity")
"""The columns of a reps file (any case); ``user`` is required."""
_RANGES = {
    "home_latitude": (-90.0, 90.0, "a latitude is within ±90 degrees"),
    "home_longitude": (-180.0, 180.0, "a longitude is within ±180 degrees"),
}


def read_reps(path: Path | str) -> list[Rep]:
    """Reps from a CSV or Parquet file: ``user`` (id, email or exact name), optional
    ``home_latitude``, ``home_longitude`` and ``capacity`` (empty: taken from the user's
    record). Any other column is refused (a misspelt ``capcity`` would otherwise be
    ignored), as are values that are not numbers, out-of-range coordinates and capacities
    of 0 or less, each with its row and column."""
    table = read_table(path)
    frame = table.frame.rename(_reps_columns(path, table.frame.columns))
    if "user" not in frame.columns:
        raise fail(path, "missing column 'user'", row=1, hint="name each rep by user id or email")
    out = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = table.rows([i])[0]
        user = (row["user"] or "").strip()
        if not user:
            raise fail(path, "empty user", row=line, column="user")
        values: dict[str, float | None] = {}
        for column in REPS_COLUMNS[1:]:
            values[column] = _reps_number(path, row.get(column), line, column)
        out.append(Rep(user, **values, file=str(path), row=line))
    if not out:
        raise fail(
            path,
            "lists no reps",
            row=2,
            hint="add one row per rep (user, and optionally home_latitude, home_longitude, "
            "capacity), or leave out --reps",
        )
    return out


def _reps_columns(path: Path | str, headers: Sequence[str]) -> dict[str, str]:
    """The file's headers renamed to ``REPS_COLUMNS``; unknown or repeated ones refused."""
    renames: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        column = header.strip().lower()
        if column not in REPS_COLUMNS:
            unknown.append(header)
        elif column in renames.values():
            raise fail(path, f"column {header!r} appears twice", row=1, hint="keep one")
        else:
            renames[header] = column
    if unknown:
        guesses = [
            f"{close[0]!r} for {u!r}"
            for u in unknown
            if (close := difflib.get_close_matches(u.strip().lower(), REPS_COLUMNS, n=1))
        ]
        raise fail(
            path,
            f"unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)}",
            row=1,
            hint=("did you mean " + ", ".join(guesses) + "? " if guesses else "")
            + f"the columns are {', '.join(REPS_COLUMNS)}",
        )
    return renames


def _reps_number(path: Path | str, value: str | None, line: int, column: str) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise fail(path, f"{text!r} is not a number", row=line, column=column)
    if column == "capacity" and number <= 0:
        raise fail(
            path,
            f"capacity {text} is not above 0",
            row=line,
            column=column,
            hint="1.0 is a full-time rep, 0.5 half-time; leave it empty to use the user's",
        )
    low, high, rule = _RANGES.get(column, (-math.inf, math.inf, ""))
    if not low <= number <= high:
        raise fail(path, f"{text} is out of range", row=line, column=column, hint=rule)
    return number


def check_rep_options(territories: int | None) -> None:
    if territories is not None:
        raise ValidationError(
            "--reps and --reps-from-users carve one territory per rep; "
            "they cannot be combined with --territories.",
            hint="Drop --territories (or the reps).",
        )


def plan_from_scratch(
    session: Session,
    model: TerritoryModelRow,
    parent: str,
    reps: Sequence[Rep],
    role: str | None,
) -> RepPlan:
    """One new territory per rep (listed reps, then holders of ``role`` under ``parent``),
    centred on the rep's home and sized by the rep's capacity."""
    homes = resolve_reps(session, model, parent, reps, role)
    return RepPlan(
        shares=[r.capacity for r in homes],
        homes=[(r.latitude, r.longitude) for r in homes],
        owners=[r.id for r in homes],
        new_owners=homes,
        owner_names=[r.name for r in homes],
    )


def plan_rebalance(
    session: Session, leaves: Sequence[TerritoryRow], reps: Sequence[Rep], role: str | None
) -> RepPlan:
    """Current leaves with their owners' capacity, then a new territory per listed rep who
    owns none of them.

    The owners of a leaf are the users holding ``role`` (default ``OWNER_ROLE``) on it. A
    rep's capacity (from the file, else the user's record, else 1.0) is split evenly over
    the leaves being rebalanced that they own; a leaf's share is the sum over its owners,
    and 1.0 for a leaf with no owner (a vacancy still carries a full territory). Current
    leaves keep free centres: a rebalance keeps territories where their accounts are. Only
    a new territory is centred on its rep's home.
    """
    listed = _listed(session, reps)
    by_leaf: dict[int, list[SalesUser]] = {leaf.pk: [] for leaf in leaves}
    holders = session.execute(
        select(UserAssignmentRow.territory_pk, SalesUser)
        .join(SalesUser, SalesUser.pk == UserAssignmentRow.user_pk)
        .where(
            UserAssignmentRow.territory_pk.in_(by_leaf),
            UserAssignmentRow.role == (role or OWNER_ROLE),
        )
        .order_by(SalesUser.id)
    ).all()
    if role is not None and not holders:
        raise ValidationError(
            f"No user holds role {role!r} on a leaf territory being rebalanced.",
            hint="Check the role ('territorial user list MODEL') or pass --reps FILE.",
        )
    for leaf_pk, user in holders:
        by_leaf[leaf_pk].append(user)
    held = Counter(user.pk for _, user in holders)  # leaves each owner holds
    capacity = {
        user.pk: _capacity(user, listed[user.pk][1] if user.pk in listed else Rep(user.id))
        for _, user in holders
    }
    shares = [
        sum(capacity[u.pk] / held[u.pk] for u in by_leaf[leaf.pk]) if by_leaf[leaf.pk] else 1.0
        for leaf in leaves
    ]
    owners = [", ".join(u.id for u in by_leaf[leaf.pk]) or None for leaf in leaves]
    hires = [_home(user, rep) for pk, (user, rep) in listed.items() if pk not in held]
    return RepPlan(
        shares=shares + [r.capacity for r in hires],
        homes=[None] * len(leaves) + [(r.latitude, r.longitude) for r in hires],
        owners=owners + [r.id for r in hires],
        new_owners=hires,
        owner_names=[", ".join(u.name for u in by_leaf[leaf.pk]) or None for leaf in leaves]
        + [r.name for r in hires],
    )


def resolve_reps(
    session: Session,
    model: TerritoryModelRow,
    parent: str,
    reps: Sequence[Rep],
    role: str | None,
) -> list[RepHome]:
    """The reps' users with home and capacity, listed reps first, then ``role`` holders."""
    given = _listed(session, reps)
    if role is not None:
        parent_row = lookup.territory(session, model, parent)
        under = _descendants(session, model, parent_row.pk)
        holders = session.scalars(
            select(SalesUser)
            .join(UserAssignmentRow, UserAssignmentRow.user_pk == SalesUser.pk)
            .where(UserAssignmentRow.territory_pk.in_(under), UserAssignmentRow.role == role)
            .distinct()
            .order_by(SalesUser.id)
        )
        found = list(holders)
        if not found:
            raise ValidationError(
                f"No user holds role {role!r} on a territory under {parent_row.developer_name!r} "
                f"in {model.developer_name!r}.",
                hint="Check the role ('territorial user list MODEL') or pass --reps FILE.",
            )
        for user in found:
            given.setdefault(user.pk, (user, Rep(user.id)))
    if len(given) < 2:
        raise ValidationError(
            f"Carving for reps needs at least 2 reps, not {len(given)}.",
            hint="List more reps; to keep one territory, do not carve it.",
        )
    return [_home(user, rep) for user, rep in given.values()]


def _listed(session: Session, reps: Sequence[Rep]) -> dict[int, tuple[SalesUser, Rep]]:
    """The listed reps' users by pk, in the listed order; a rep listed twice is an error."""
    given: dict[int, tuple[SalesUser, Rep]] = {}
    for rep in reps:
        try:
            user = lookup.user(session, rep.user)
        except NotFound as err:
            if rep.file is None:
                raise
            raise fail(
                rep.file,
                f"user {rep.user!r} not found",
                row=rep.row,
                column="user",
                hint="give a user's id, email or exact name; import users first with "
                "'territorial import users FILE'",
            ) from err
        if user.pk in given:
            first = given[user.pk][1]
            if rep.file is None:
                raise ValidationError(
                    f"Rep {rep.user!r} is listed twice.", hint="List each rep once."
                )
            also = f", as {first.user!r}" if first.user != rep.user else ""
            raise fail(
                rep.file,
                f"rep {rep.user!r} is listed twice: row {first.row} names the same user{also}",
                row=rep.row,
                column="user",
                hint="list each rep once",
            )
        given[user.pk] = (user, rep)
    return given


def _home(user: SalesUser, rep: Rep) -> RepHome:
    """``user`` with the home and capacity of ``rep`` (else of the user's record)."""
    lat = rep.home_latitude if rep.home_latitude is not None else user.home_latitude
    lon = rep.home_longitude if rep.home_longitude is not None else user.home_longitude
    if lat is None or lon is None:
        raise ValidationError(
            f"Rep {user.id!r} ({user.name}) has no home location.",
            hint="Give home_latitude and home_longitude in the reps file or on the user.",
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(
            f"Rep {user.id!r} has an invalid home location ({lat}, {lon}).",
            hint="Latitude is within ±90, longitude within ±180 degrees.",
        )
    return RepHome(user.pk, user.id, float(lat), float(lon), _capacity(user, rep), user.name)


def _capacity(user: SalesUser, rep: Rep) -> float:
    """The rep's capacity: from ``rep``, else the user's record, else 1.0; must be > 0."""
    capacity = rep.capacity if rep.capacity is not None else user.capacity
    capacity = 1.0 if capacity is None else float(capacity)
    if not (math.isfinite(capacity) and capacity > 0):
        raise ValidationError(
            f"Rep {user.id!r} ({user.name}) has capacity {capacity:g}; it must be positive.",
            hint="Give a capacity above 0 (1.0 is a full-time rep).",
        )
    return capacity


def _descendants(session: Session, model: TerritoryModelRow, root: int) -> list[int]:
    rows = session.execute(
        select(TerritoryRow.pk, TerritoryRow.parent_pk).where(TerritoryRow.model_pk == model.pk)
    ).all()
    return sorted(tree.subtree({pk: parent for pk, parent in rows}, root) - {root})


__all__ = [
    "OWNER_ROLE",
    "REPS_COLUMNS",
    "Rep",
    "RepHome",
    "RepPlan",
    "check_rep_options",
    "plan_from_scratch",
    "plan_rebalance",
    "read_reps",
    "resolve_reps",
]
