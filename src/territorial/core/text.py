"""Words for people: counts with the noun in the right number."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 item``, ``2 items``, ``1,000 accounts``; ``many`` for irregular plurals.

    >>> plural(1, "item"), plural(0, "rule"), plural(1200, "territory", "territories")
    ('1 item', '0 rules', '1,200 territories')
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


__all__ = ["plural"]
