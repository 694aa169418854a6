"""Rule items written as one line of text: ``FIELD OPERATOR VALUE``."""

from __future__ import annotations

from territorial.core.model import RuleItem
from territorial.errors import RuleError


def parse_item(text: str, number: int, *, rule: str | None = None) -> RuleItem:
    """Read ``"BillingStateCode equals CA, NV"`` as item ``number``.

    The field and operator are single words; everything after the operator is the value,
    kept as written (lists stay comma-separated).

    >>> parse_item("Account.BillingPostalCode startsWith 94, 95", 1)
    RuleItem(number=1, field='Account.BillingPostalCode', operator='startsWith', value='94, 95')
    >>> parse_item("Industry", 2)
    Traceback (most recent call last):
    ...
    territorial.errors.RuleError: Item 2: 'Industry' is not 'FIELD OPERATOR VALUE'. Write \
for example 'BillingStateCode equals CA,NV'.
    """
    parts = text.strip().split(maxsplit=2)
    if len(parts) < 2:
        where = f"Item {number}: " if rule is None else ""
        raise RuleError(
            f"{where}{text.strip()!r} is not 'FIELD OPERATOR VALUE'.",
            rule=rule,
            item=number if rule is not None else None,
            hint="Write for example 'BillingStateCode equals CA,NV'.",
        )
    value = parts[2] if len(parts) == 3 else ""
    return RuleItem(number, parts[0], parts[1], value)


__all__ = ["parse_item"]
