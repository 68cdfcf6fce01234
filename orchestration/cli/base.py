"""The command group: lazy sub-commands, `-v`, and the one path every user error takes."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from core.errors import TradlyteError, first_line

LOCK_BUSY_EXIT = 3


class UserError(click.ClickException):
    """What the user must fix, printed as one line `Error: ...`, exit code 2."""

    exit_code = 2


class LockBusy(click.ClickException):
    """Another run holds the lock for the target: exit code 3."""

    exit_code = LOCK_BUSY_EXIT


def user_error_in(exc: BaseException) -> TradlyteError | None:
    """The TradlyteError that caused `exc`, if any (dlt and dbt wrap what a resource raised)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TradlyteError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class UserErrorGroup(click.Group):
    """A click group with the one error path: a `TradlyteError` anywhere in the chain of what a
    command raised becomes one line and exit 2 (3 for a busy run lock); anything else is a bug
    and keeps its traceback. Every group of the CLI is one (`cls=UserErrorGroup`)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - a user error becomes one line, a bug stays a traceback
            from orchestration.run_lock import RunLockBusy

            cause = user_error_in(exc)
            if cause is None:
                raise
            if VERBOSE["on"]:
                import traceback

                traceback.print_exception(exc, file=sys.stderr)
            if isinstance(cause, RunLockBusy):
                raise LockBusy(first_line(cause)) from None
            raise UserError(first_line(cause)) from None


class TradlyteGroup(UserErrorGroup):
    """The top group: commands imported when first used, and `-v`."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self.params.append(click.Option(["-v", "--verbose"], is_flag=True, expose_value=False,
                                        is_eager=True, callback=_verbose,
                                        help="Log at INFO level; show tracebacks of errors."))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


VERBOSE = {"on": False}


def _verbose(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    VERBOSE["on"] = value
    logging.basicConfig(level=logging.INFO if value else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
