"""Where each command group is added to the root app; one line per group module."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from territorial.cli import (
        assignments,
        audit,
        demo,
        explain,
        hierarchy,
        models,
        opportunities,
        rules,
        runs,
        salesforce,
    )

    app.add_typer(models.app, name="model")
    app.add_typer(hierarchy.types_app, name="type")
    app.add_typer(hierarchy.territory_app, name="territory")
    app.add_typer(rules.app, name="rule")
    app.add_typer(assignments.user_app, name="user")
    app.add_typer(assignments.account_app, name="account")
    app.command("run")(runs.run)
    app.command("demo")(demo.demo)
    app.command("audit")(audit.audit_log)
    app.command("explain")(explain.explain)
    app.add_typer(opportunities.app, name="opportunities")
    app.add_typer(salesforce.app, name="salesforce")
    from territorial.cli import compare, reports

    app.add_typer(reports.app, name="report")
    app.command("compare")(compare.compare)
    from territorial.cli import carve

    app.command("carve")(carve.carve)
    from territorial.cli import data  # import, export, field

    data.register(app)
