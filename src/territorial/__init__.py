"""Territorial: open-source sales territory management.

The Python API mirrors the command line. Open a workspace, then call service functions::

    import territorial as t

    ws = t.Workspace.open("sqlite:///territorial.db")
    t.clone_model(ws, "FY2027_Territories", "FY2028 Plan")
    t.run_rules(ws, "FY2028_Plan", preview=True)
    t.account_team(ws, "001...", model="FY2028_Plan")
"""

from territorial.core.carve import CarveInfeasible, is_partition
from territorial.core.fields import Field, FieldCatalog, FieldType
from territorial.core.model import (
    ModelSpec,
    ModelState,
    Rule,
    RuleAssociation,
    RuleItem,
    Territory,
    TerritoryType,
    UserAssignment,
)
from territorial.errors import (
    ConfigurationError,
    Conflict,
    FormulaError,
    InputFileError,
    LifecycleError,
    NotFound,
    Problem,
    RuleError,
    TerritorialError,
    ValidationError,
    error_body,
)
from territorial.services.assignments import (
    account_team,
    assign_account,
    assign_user,
    exclude_account,
    include_account,
    unassign_account,
    unassign_user,
    user_territories,
)
from territorial.services.carve import carve_model
from territorial.services.compare import compare_models
from territorial.services.dataloader import export_dataloader_files
from territorial.services.demo import load_demo
from territorial.services.explain import explain
from territorial.services.exports import (
    export_accounts,
    export_assignments,
    export_exclusions,
    export_opportunities,
    export_user_territories,
    export_users,
)
from territorial.services.fields import add_field, list_fields
from territorial.services.hierarchy import (
    add_territory,
    add_type,
    list_types,
    move_territory,
    remove_territory,
    rename_territory,
    tree,
)
from territorial.services.imports import (
    import_accounts,
    import_opportunities,
    import_users,
)
from territorial.services.links import import_assignments, import_user_territories
from territorial.services.models import (
    activate_model,
    archive_model,
    clone_model,
    create_model,
    delete_model,
    list_models,
    set_rule_combination,
    show_model,
)
from territorial.services.overview import model_overview
from territorial.services.packets import write_packets
from territorial.services.reports import (
    balance_report,
    empty_territories,
    multi_territory_accounts,
    revenue_report,
    territory_summary,
    unassigned_accounts,
    users_report,
)
from territorial.services.runs import run_rules
from territorial.services.salesforce import (
    export_salesforce_metadata,
    import_salesforce_metadata,
)
from territorial.services.specs import create_model_from_spec, read_spec
from territorial.services.workspace import Workspace
from territorial.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "CarveInfeasible",
    "ConfigurationError",
    "Conflict",
    "Field",
    "FieldCatalog",
    "FieldType",
    "FormulaError",
    "InputFileError",
    "LifecycleError",
    "ModelSpec",
    "ModelState",
    "NotFound",
    "Problem",
    "Rule",
    "RuleAssociation",
    "RuleError",
    "RuleItem",
    "Settings",
    "TerritorialError",
    "Territory",
    "TerritoryType",
    "UserAssignment",
    "ValidationError",
    "Workspace",
    "__version__",
    "account_team",
    "activate_model",
    "add_field",
    "add_territory",
    "add_type",
    "archive_model",
    "assign_account",
    "assign_user",
    "balance_report",
    "carve_model",
    "clone_model",
    "compare_models",
    "create_model",
    "create_model_from_spec",
    "delete_model",
    "empty_territories",
    "error_body",
    "exclude_account",
    "explain",
    "export_accounts",
    "export_assignments",
    "export_dataloader_files",
    "export_exclusions",
    "export_opportunities",
    "export_salesforce_metadata",
    "export_user_territories",
    "export_users",
    "import_accounts",
    "import_assignments",
    "import_opportunities",
    "import_salesforce_metadata",
    "import_user_territories",
    "import_users",
    "include_account",
    "is_partition",
    "list_fields",
    "list_models",
    "list_types",
    "load_demo",
    "model_overview",
    "move_territory",
    "multi_territory_accounts",
    "read_spec",
    "remove_territory",
    "rename_territory",
    "revenue_report",
    "run_rules",
    "set_rule_combination",
    "show_model",
    "territory_summary",
    "tree",
    "unassign_account",
    "unassign_user",
    "unassigned_accounts",
    "user_territories",
    "users_report",
    "write_packets",
]
