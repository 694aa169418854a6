"""The boolean filter of a rule: item numbers combined with AND, OR, NOT and parentheses.

Keywords are case-insensitive. Precedence is the usual one (NOT binds tighter than AND,
AND tighter than OR), so ``1 OR 2 AND 3`` means ``1 OR (2 AND 3)``; write parentheses to
make a mixed filter clear. Without a filter every item is ANDed.

>>> node = parse_filter("1 and (2 or not 3)", rule="West")
>>> node
And(parts=(Item(number=1), Or(parts=(Item(number=2), Not(part=Item(number=3))))))
>>> evaluate_filter(node, {1: True, 2: False, 3: False})
True
>>> to_dnf(node)
(((1, False), (2, False)), ((1, False), (3, True)))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product

from territorial.errors import RuleError


@dataclass(frozen=True)
class Item:
    """A reference to rule item ``number``."""

    number: int


@dataclass(frozen=True)
class Not:
    """Negation of ``part``."""

    part: FilterNode


@dataclass(frozen=True)
class And:
    """True when every part is true."""

    parts: tuple[FilterNode, ...]


@dataclass(frozen=True)
class Or:
    """True when at least one part is true."""

    parts: tuple[FilterNode, ...]


FilterNode = Item | Not | And | Or
Literal = tuple[int, bool]
"""An item number and whether it is negated."""
Conjunction = tuple[Literal, ...]

_TOKEN = re.compile(r"\s*(?:(\d+)|(\()|(\))|([A-Za-z]+)|(\S))")
_HINT = "Write item numbers joined by AND, OR, NOT and parentheses, e.g. '1 AND (2 OR 3)'."
MAX_CONJUNCTIONS = 4096


def _tokenize(text: str, rule: str | None) -> list[str]:
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        number, lpar, rpar, word, other = match.groups()
        if other is not None:
            raise RuleError(
                f"boolean filter {text!r} has an unexpected character {other!r}.",
                rule=rule,
                hint=_HINT,
            )
        if word is not None and word.upper() not in ("AND", "OR", "NOT"):
            raise RuleError(
                f"boolean filter {text!r} has an unknown word {word!r}.", rule=rule, hint=_HINT
            )
        tokens.append(number or lpar or rpar or word.upper())
    return tokens


class _Parser:
    def __init__(self, text: str, rule: str | None) -> None:
        self.text = text
        self.rule = rule
        self.tokens = _tokenize(text, rule)
        self.pos = 0

    def fail(self, what: str) -> RuleError:
        return RuleError(f"boolean filter {self.text!r} {what}.", rule=self.rule, hint=_HINT)

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.fail("ends too early")
        self.pos += 1
        return token

    def parse(self) -> FilterNode:
        if not self.tokens:
            raise self.fail("is empty")
        node = self.parse_or()
        if self.peek() is not None:
            raise self.fail(f"has an unexpected {self.peek()!r} at token {self.pos + 1}")
        return node

    def parse_or(self) -> FilterNode:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> FilterNode:
        parts = [self.parse_not()]
        while self.peek() == "AND":
            self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_not(self) -> FilterNode:
        if self.peek() == "NOT":
            self.take()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> FilterNode:
        token = self.take()
        if token == "(":
            node = self.parse_or()
            if self.peek() != ")":
                raise self.fail("has an unclosed parenthesis")
            self.take()
            return node
        if token.isdigit():
            return Item(int(token))
        raise self.fail(f"has {token!r} where an item number or '(' was expected")


def parse_filter(text: str, *, rule: str | None = None) -> FilterNode:
    """Parse a boolean filter; raise RuleError naming ``rule`` when it is malformed.

    >>> parse_filter("NOT 1", rule="R")
    Not(part=Item(number=1))
    >>> parse_filter("1 AND", rule="R")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    territorial.errors.RuleError: Rule 'R': boolean filter '1 AND' ends too early. ...
    """
    return _Parser(text, rule).parse()


def and_all(numbers: Iterable[int]) -> FilterNode:
    """The implicit filter of a rule without one: all items ANDed.

    >>> and_all([1, 2])
    And(parts=(Item(number=1), Item(number=2)))
    """
    items = tuple(Item(n) for n in numbers)
    return items[0] if len(items) == 1 else And(items)


def item_numbers(node: FilterNode) -> set[int]:
    """Every item number the filter mentions.

    >>> sorted(item_numbers(parse_filter("(3 or 1) and not 2")))
    [1, 2, 3]
    """
    if isinstance(node, Item):
        return {node.number}
    if isinstance(node, Not):
        return item_numbers(node.part)
    return set().union(*(item_numbers(p) for p in node.parts))


def evaluate_filter(node: FilterNode, values: Mapping[int, bool]) -> bool:
    """Evaluate the filter given the truth of each item."""
    return evaluate_lazy(node, values.__getitem__)


def evaluate_lazy(node: FilterNode, value_of: Callable[[int], bool]) -> bool:
    """Evaluate the filter, asking ``value_of(item_number)`` only for items it needs."""
    if isinstance(node, Item):
        return value_of(node.number)
    if isinstance(node, Not):
        return not evaluate_lazy(node.part, value_of)
    if isinstance(node, And):
        return all(evaluate_lazy(p, value_of) for p in node.parts)
    return any(evaluate_lazy(p, value_of) for p in node.parts)


def to_dnf(node: FilterNode, *, rule: str | None = None) -> tuple[Conjunction, ...]:
    """Disjunctive normal form: OR of ANDs of (item number, negated) literals.

    Contradictory conjunctions (an item and its negation) are dropped and duplicate
    literals merged. Raises RuleError when the form would exceed ``MAX_CONJUNCTIONS``.

    >>> to_dnf(parse_filter("not (1 or 2)"))
    (((1, True), (2, True)),)
    >>> to_dnf(parse_filter("1 and not 1"))
    ()
    """
    result = _dnf(node, False, rule)
    unique: dict[Conjunction, None] = {}
    for conj in result:
        literals = frozenset(conj)
        if any((n, not neg) in literals for n, neg in literals):
            continue
        unique[tuple(sorted(literals))] = None
    return tuple(unique)


def _dnf(node: FilterNode, negate: bool, rule: str | None) -> list[Conjunction]:
    if isinstance(node, Item):
        return [((node.number, negate),)]
    if isinstance(node, Not):
        return _dnf(node.part, not negate, rule)
    parts = [_dnf(p, negate, rule) for p in node.parts]
    is_or = isinstance(node, Or) != negate  # De Morgan swaps AND and OR under negation
    if is_or:
        return [conj for part in parts for conj in part]
    size = 1
    for part in parts:
        size *= len(part)
    if size > MAX_CONJUNCTIONS:
        raise RuleError(
            f"boolean filter expands to {size} alternatives, more than {MAX_CONJUNCTIONS}.",
            rule=rule,
            hint="Simplify the filter, or split it into several rules.",
        )
    return [tuple(lit for conj in combo for lit in conj) for combo in product(*parts)]


__all__ = [
    "MAX_CONJUNCTIONS",
    "And",
    "Conjunction",
    "FilterNode",
    "Item",
    "Literal",
    "Not",
    "Or",
    "and_all",
    "evaluate_filter",
    "evaluate_lazy",
    "item_numbers",
    "parse_filter",
    "to_dnf",
]
