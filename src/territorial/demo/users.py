"""The demo's sales team (about sixty people) and who works which territory in what role."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from territorial.core.model import UserAssignment
from territorial.demo.ids import random_serials, salesforce_ids
from territorial.demo.model import Node

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Ethan", "Harper", "Aiden", "Priya", "Wei", "Sofia", "Hiroshi",
    "Chloe", "Daniel", "Grace", "Samuel", "Zoe", "Omar", "Hannah", "Leon", "Camille", "Lars",
    "Ingrid", "Kenji", "Aisha", "Carlos", "Fatima", "Marco", "Elena", "Arjun", "Yuki", "Nora",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Brown", "Miller", "Davis", "Martinez", "Lopez", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen",
    "Patel", "Kim", "Schmidt", "Müller", "Dubois", "Rossi", "Jansen", "Nielsen", "Tanaka",
    "Sato", "O'Brien", "Murphy", "Kowalski", "Singh", "Chen", "Wong", "Silva", "Berg",
)  # fmt: skip

AE, SE, CSM = "Account Executive", "Sales Engineer", "Customer Success Manager"
RVP, AREA_MANAGER = "Regional VP", "Area Manager"
OWNER, MANAGER = "Territory Owner", "Manager"
EMAIL_DOMAIN = "demo.territorial.example"

# Named-account territories are owned by the rep of one of the region's leaves.
NAMED_OWNERS = {
    "Named_NA": "West_Ent_Pacific",
    "Named_EMEA": "UK_London",
    "Named_APAC": "Australia_East",
}


@dataclass(frozen=True)
class Seat:
    """One person to hire: title, where they live and which territories they work."""

    title: str
    hub: tuple[float, float]
    roles: tuple[tuple[str, str], ...]  # (territory, role in territory)


def _leaf_seats(nodes: tuple[Node, ...]) -> list[Seat]:
    """One AE per distinct owner key of the geo leaves; vacant leaves get nobody."""
    keys: dict[str, list[str]] = {}
    hubs: dict[str, tuple[float, float]] = {}
    for node in nodes:
        if node.type == "Geo" and node.owner is not None:
            key = node.owner or node.name
            keys.setdefault(key, []).append(node.name)
            hubs.setdefault(key, node.hub)
    for named, leaf in NAMED_OWNERS.items():
        keys[next(k for k, v in keys.items() if leaf in v)].append(named)
    return [Seat(AE, hubs[k], tuple((t, OWNER) for t in v)) for k, v in keys.items()]


def _manager_seats(nodes: tuple[Node, ...]) -> list[Seat]:
    seats = []
    for node in nodes:
        if node.type == "Region":
            seats.append(Seat(RVP, node.hub, ((node.name, MANAGER),)))
            seats.append(Seat(CSM, node.hub, ((node.name, CSM),)))
            areas = [n for n in nodes if n.parent == node.name]
            for half in (areas[: (len(areas) + 1) // 2], areas[(len(areas) + 1) // 2 :]):
                seats.append(Seat(SE, half[0].hub, tuple((a.name, SE) for a in half)))
        elif node.type == "Area":
            seats.append(Seat(AREA_MANAGER, node.hub, ((node.name, MANAGER),)))
    return seats


def _overlay_seats(nodes: tuple[Node, ...]) -> list[Seat]:
    return [
        Seat(AE, n.hub, ((n.name, OWNER),))
        for n in nodes
        if n.type == "Overlay" and n.parent is not None
    ]


def seats(nodes: tuple[Node, ...]) -> list[Seat]:
    """Everyone the demo organisation employs, in a stable order."""
    return [*_manager_seats(nodes), *_leaf_seats(nodes), *_overlay_seats(nodes)]


def _names(rng: np.random.Generator, n: int) -> list[str]:
    pairs = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=n, replace=False)
    return [f"{FIRST_NAMES[p // len(LAST_NAMES)]} {LAST_NAMES[p % len(LAST_NAMES)]}" for p in pairs]


def _email(name: str) -> str:
    ascii_name = name.replace("ü", "ue").replace("'", "").lower()
    return ascii_name.replace(" ", ".") + "@" + EMAIL_DOMAIN


def users_frame(rng: np.random.Generator, staff: list[Seat]) -> pl.DataFrame:
    """One row per seat: Salesforce-like id, name, email, title, home near the hub, capacity."""
    names = _names(rng, len(staff))
    hubs = np.array([s.hub for s in staff], dtype=np.float64).reshape(len(staff), 2)
    home = hubs + rng.normal(0.0, 0.15, size=hubs.shape)
    is_manager = np.array([s.title in (RVP, AREA_MANAGER) for s in staff])
    ramping = rng.random(len(staff)) < 0.12
    capacity = np.where(is_manager, 0.25, np.where(ramping, 0.5, 1.0))
    return pl.DataFrame(
        {
            "id": salesforce_ids("005", random_serials(rng, len(staff)), instance="4x"),
            "name": names,
            "email": [_email(n) for n in names],
            "title": [s.title for s in staff],
            "home_latitude": home[:, 0].round(4),
            "home_longitude": home[:, 1].round(4),
            "capacity": capacity,
        },
        schema={"id": pl.String, "name": pl.String, "email": pl.String, "title": pl.String,
                "home_latitude": pl.Float64, "home_longitude": pl.Float64, "capacity": pl.Float64},
    )  # fmt: skip


def user_assignments(users: pl.DataFrame, staff: list[Seat]) -> list[UserAssignment]:
    """Every seat's roles, by user id."""
    return [
        UserAssignment(user_id, territory, role)
        for user_id, seat in zip(users["id"], staff, strict=True)
        for territory, role in seat.roles
    ]


def owners_by_territory(users: pl.DataFrame, staff: list[Seat], role: str) -> dict[str, str]:
    """Territory -> the user id holding ``role`` there."""
    return {
        territory: user_id
        for user_id, seat in zip(users["id"], staff, strict=True)
        for territory, held in seat.roles
        if held == role
    }


__all__ = ["Seat", "owners_by_territory", "seats", "user_assignments", "users_frame"]
