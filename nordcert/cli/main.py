"""The ``nordcert`` command line: operators' on-boarding, imports and the server (DESIGN.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from nordcert.cli import accounts as accounts_cli
from nordcert.cli import backup as backup_cli
from nordcert.cli import baseline as baseline_cli
from nordcert.cli import export as export_cli
from nordcert.cli import federation as federation_cli
from nordcert.cli import intel as intel_cli
from nordcert.cli import observables as observables_cli
from nordcert.cli import privacy as privacy_cli
from nordcert.cli import server as server_cli
from nordcert.cli import taxii as taxii_cli
from nordcert.cli.output import err_console
from nordcert.config import Settings
from nordcert.errors import NordcertError

app = typer.Typer(
    name="nordcert",
    help="Threat-intelligence sharing and operational resilience for a financial-sector CERT.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _main(
    ctx: typer.Context,
    instance: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads the annotation at run time
        typer.Option("--instance", help="Instance folder (default: $NORDCERT_HOME or ./nordcert-data).",
                     envvar="NORDCERT_HOME"),
    ] = None,
) -> None:
    """Select the instance; every command works on it."""
    ctx.obj = Settings(home=instance) if instance is not None else Settings()


accounts_cli.register(app)
intel_cli.register(app)
export_cli.register(app)
observables_cli.register(app)
privacy_cli.register(app)
server_cli.register(app)
taxii_cli.register(app)
federation_cli.register(app)
backup_cli.register(app)
baseline_cli.register(app)


def run() -> None:
    """Entry point: service errors become one line on stderr and a non-zero exit code.

    Usage errors are reported by Typer itself (exit code 2).
    """
    try:
        app()
    except NordcertError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        for d in exc.details[:20]:
            err_console.print("  " + ", ".join(f"{k}={v}" for k, v in d.items() if v is not None), highlight=False)
        if len(exc.details) > 20:
            err_console.print(f"  … and {len(exc.details) - 20} more", highlight=False)
        sys.exit(1)
    except ValidationError as exc:
        first = exc.errors()[0]
        err_console.print(f"[bold red]error:[/] invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}")
        sys.exit(2)
