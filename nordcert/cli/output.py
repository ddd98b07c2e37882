"""How the CLI prints: Rich tables for people, JSON for scripts, one clear line for errors."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode() + "\n")


def emit(data: Any, *, as_json: bool, columns: Sequence[str] | None = None, title: str | None = None) -> None:
    """Print ``data`` (a dict or a list of dicts) as JSON or as a table of ``columns``."""
    if as_json:
        emit_json(data)
        return
    rows = data if isinstance(data, list) else [data]
    cols = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title, header_style="bold")
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in cols))
    console.print(table)
