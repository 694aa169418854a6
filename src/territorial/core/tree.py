"""Walks over a territory hierarchy given as ``{territory: parent}`` (None for a root).

Every walk stops at a cycle instead of looping, so it is safe on unchecked input.
"""

from __future__ import annotations

from collections.abc import Mapping

Parents = Mapping[int, int | None]


def ancestors(parents: Parents, pk: int) -> list[int]:
    """The parent, grandparent... of ``pk``, nearest first.

    >>> ancestors({1: None, 2: 1, 3: 2}, 3)
    [2, 1]
    >>> ancestors({1: 2, 2: 1}, 1)  # a cycle ends the walk
    [2]
    """
    chain: list[int] = []
    seen = {pk}
    node = parents.get(pk)
    while node is not None and node not in seen:
        chain.append(node)
        seen.add(node)
        node = parents.get(node)
    return chain


def depths(parents: Parents) -> dict[int, int]:
    """Depth of each territory: 0 for a root.

    >>> depths({1: None, 2: 1, 3: 2})
    {1: 0, 2: 1, 3: 2}
    """
    return {pk: len(ancestors(parents, pk)) for pk in parents}


def roots(parents: Parents) -> dict[int, int]:
    """Each territory's top-level ancestor (itself for a root).

    >>> roots({1: None, 2: 1, 3: 2, 4: None})
    {1: 1, 2: 1, 3: 1, 4: 4}
    """
    result: dict[int, int] = {}
    for pk in parents:
        chain = ancestors(parents, pk)
        result[pk] = chain[-1] if chain else pk
    return result


def subtree(parents: Parents, root: int) -> set[int]:
    """``root`` and every territory below it.

    >>> sorted(subtree({1: None, 2: 1, 3: 2, 4: None}, 2))
    [2, 3]
    """
    children: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        children.setdefault(parent, []).append(pk)
    found, frontier = {root}, [root]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, []) if c not in found]
        found.update(frontier)
    return found


__all__ = ["Parents", "ancestors", "depths", "roots", "subtree"]
