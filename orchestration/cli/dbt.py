"""`tradlyte dbt ...`: any dbt command on the project, in-process, with the CLI's settings."""

from __future__ import annotations

import click

from orchestration.cli.options import DBT_TARGETS, target_option


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               help="Run a dbt command on the project, e.g. `tradlyte dbt --target postgres build`.")
@target_option(DBT_TARGETS, help="The dbt target (profiles/profiles.yml).")
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt(target, dbt_args) -> None:
    from orchestration.cli.base import UserError
    from orchestration.dbt_runner import DbtRunError, prepare_target, run_dbt

    args = list(dbt_args) or ["build"]
    prepare_target(target, args)
    try:
        run_dbt(args, target=target, quiet=False)
    except DbtRunError as exc:
        raise UserError(str(exc)) from None
