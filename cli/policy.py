"""``petitions policy``: the deadline policies (cn-2022, cn-2005, the unit's own)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import ConfigOpt, office_dir, out, reports_errors
from domain.policy import DeadlinePolicy
from services.config import load_policies
from services.files import load_file, read_data

policy_app = typer.Typer(help="Deadline policies (cn-2022, cn-2005, the unit's own).",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


def _policy_table(policy: DeadlinePolicy) -> Table:
    table = Table(title=f"{policy.id}: {policy.title} (in force from {policy.effective_from})")
    for col in ("deadline", "limit", "basis", "escalation"):
        table.add_column(col)
    for kind, limit in policy.limits.items():
        ladder = ", ".join(
            f"{r.name}@{float(r.at):.0%}→{r.role.value}" if r.at is not None
            else f"{r.name}+{r.after_due}→{r.role.value}" for r in policy.ladder(kind))
        table.add_row(f"{kind.value}\n{kind.label}", str(limit.period), limit.basis,
                      ladder or "(a window: it lapses)")
    ext = policy.extension
    table.caption = (f"extension: at most {ext.max_count} × {ext.max_period} on "
                     f"{', '.join(k.value for k in ext.applies_to)}, approved by "
                     f"{ext.approver_role.value} or above — {ext.basis}")
    return table


@policy_app.command("show")
@reports_errors
def policy_show(policy_id: Annotated[str | None, typer.Argument()] = None,
                config: ConfigOpt = None) -> None:
    """Show a policy's limits, their legal basis and escalation ladders."""
    registry = load_policies(office_dir(config) / "policies")
    out.print(_policy_table(registry.get(policy_id or registry.default_id)))


@policy_app.command("check")
@reports_errors
def policy_check(path: Path) -> None:
    """Validate a unit's policy file and show it; errors name the file, line and field."""
    registry = load_file(path, load_policies(None).with_policy)
    out.print(_policy_table(registry.get(str(read_data(path)["id"]))))
    out.print(f"{path}: ok")
