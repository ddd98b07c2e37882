"""Shared plumbing of the CLI commands: the instance's engine, migrated on first use."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import Engine

from nordcert.config import Settings
from nordcert.db import make_engine, migrate

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def settings_of(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def engine_of(ctx: typer.Context) -> Engine:
    """The instance's store, created and migrated if needed."""
    engine = make_engine(settings_of(ctx))
    migrate(engine)
    return engine
