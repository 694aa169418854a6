"""Balanced territory design: carve items (accounts or geographic units) into territories
balanced on several measures, compact, contiguous on a unit graph, with minimal disruption.

Pure: arrays and dataclasses in, arrays and dataclasses out. The service
(``territorial.services.carve``) loads accounts, builds the problem and writes the plan as
a planning model.
"""

from territorial.core.carve.geo import to_latlon, to_xyz
from territorial.core.carve.graph import territory_components, unit_graph
from territorial.core.carve.problem import (
    CarveInfeasible,
    CarvePlan,
    CarveProblem,
    as_generator,
)
from territorial.core.carve.quality import (
    BalanceReport,
    Contiguity,
    MeasureBalance,
    balance_report,
    compactness,
    contiguity,
    disruption,
    is_partition,
    kmeans_reference,
)
from territorial.core.carve.solve import carve, check_feasible
from territorial.core.formula import compile_formula, formula_fields

__all__ = [
    "BalanceReport",
    "CarveInfeasible",
    "CarvePlan",
    "CarveProblem",
    "Contiguity",
    "MeasureBalance",
    "as_generator",
    "balance_report",
    "carve",
    "check_feasible",
    "compactness",
    "compile_formula",
    "contiguity",
    "disruption",
    "formula_fields",
    "is_partition",
    "kmeans_reference",
    "territory_components",
    "to_latlon",
    "to_xyz",
    "unit_graph",
]
