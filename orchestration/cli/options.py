"""The options the commands share: one date type, one list of targets per kind of command."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from core.targets import ARCHIVE_TARGETS, DBT_TARGETS, GOLD_READ_TARGETS, TARGETS


class IsoDate(click.ParamType):
    """A calendar date written YYYY-MM-DD (New York dates wherever sessions are meant)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as YYYY-MM-DD", param, ctx)


class NewYorkTime(click.ParamType):
    """An ISO date-time; without an offset it is New York time (how the exchange thinks)."""

    name = "ISO-TIME"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        from core.calendar import NEW_YORK

        try:
            ts = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date-time; write it as YYYY-MM-DDTHH:MM[+HH:MM]", param, ctx)
        return (ts.replace(tzinfo=NEW_YORK) if ts.tzinfo is None else ts).astimezone(UTC)


class CommaList(click.ParamType):
    """`A,B,C` -> ["A", "B", "C"] (blanks dropped); with `choices`, every item must be one."""

    name = "A,B,..."

    def __init__(self, choices: tuple[str, ...] | None = None, upper: bool = False):
        self.choices, self.upper = choices, upper

    def convert(self, value, param, ctx) -> list[str]:
        if isinstance(value, list):
            return value
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        if self.upper:
            items = [v.upper() for v in items]
        unknown = [v for v in items if self.choices and v not in self.choices]
        if unknown:
            self.fail(f"unknown {', '.join(unknown)}: choose from {', '.join(self.choices or ())}", param, ctx)
        if not items:
            self.fail("give at least one value", param, ctx)
        return items


DATE = IsoDate()
NY_TIME = NewYorkTime()


def check_range(start: date | None, end: date | None, start_flag: str = "--from", end_flag: str = "--to") -> None:
    """Reject a reversed range at parse time."""
    if start and end and end < start:
        raise click.BadParameter(f"{end_flag} {end} is before {start_flag} {start}")


def target_option(choices: tuple[str, ...] = TARGETS, help: str = "Where raw tables land and dbt builds."):
    return click.option("--target", type=click.Choice(list(choices)),
                        default="duckdb" if "duckdb" in choices else choices[0], show_default=True, help=help)


__all__ = ["ARCHIVE_TARGETS", "DATE", "DBT_TARGETS", "GOLD_READ_TARGETS", "NY_TIME", "TARGETS", "CommaList",
           "check_range", "target_option"]
