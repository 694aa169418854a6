"""``territorial audit``: who changed what, and when."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from territorial.cli._common import OutputFormat, render, state, workspace
from territorial.services import audit


def describe_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """``key: old → new`` for changed values, ``key=value`` for values only on one side.

    >>> describe_change({"state": "planning"}, {"state": "active", "run": 3})
    'state: planning → active; run=3'
    """
    before, after = before or {}, after or {}
    parts = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in before and key in after:
            if before[key] != after[key]:
                parts.append(f"{key}: {before[key]} → {after[key]}")
        elif key in after:
            parts.append(f"{key}={after[key]}")
        else:
            parts.append(f"{key} was {before[key]}")
    return "; ".join(parts)


def audit_log(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only changes to this model.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many entries, newest first.")] = 50,
) -> None:
    """Show the audit log: every change with who made it, when, and what changed.

    Example: territorial audit --model FY2028_Plan --limit 20
    """
    entries = audit.log(workspace(ctx), model=model, limit=limit)
    raw = state(ctx).format is not OutputFormat.table
    rows = [
        {
            "when": e.at.isoformat(timespec="seconds"),
            "who": e.actor,
            "action": e.action,
            "what": e.entity_key,
            "model": e.model,
            **(
                {"before": e.before, "after": e.after}
                if raw
                else {"change": describe_change(e.before, e.after)}
            ),
        }
        for e in entries
    ]
    render(ctx, rows, title="Audit log")
