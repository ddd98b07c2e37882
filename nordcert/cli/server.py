"""CLI: serve the API, and the demo instance."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from nordcert.cli.common import JsonOpt, settings_of
from nordcert.cli.output import console, emit_json
from nordcert.errors import Invalid

if TYPE_CHECKING:
    import uvicorn


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (PostgreSQL stores).")] = 1,
) -> None:
    """Serve the REST API (OpenAPI docs at /api/docs) and the web pages."""
    import uvicorn

    from nordcert.app import create_app, freeze_heap

    settings = settings_of(ctx)
    if workers > 1 and settings.database_url is None:
        raise Invalid("several workers need a PostgreSQL store (NORDCERT_DATABASE_URL); SQLite serves from one")
    app = create_app(settings)  # migrates the store once, before any worker starts
    console.print(f"nordcert serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    # proxy_headers=False: the app believes X-Forwarded-* from settings.trusted_proxies only (nordcert.guard).
    if workers > 1:
        # Worker processes build their settings from the environment: hand this instance's down.
        os.environ["NORDCERT_HOME"] = str(settings.home)
        os.environ["NORDCERT_DATABASE_URL"] = str(settings.database_url)
        from uvicorn.supervisors import Multiprocess

        config = uvicorn.Config("nordcert.app:create_app_from_environment", factory=True, host=host, port=port,
                                workers=workers, log_level="info", proxy_headers=False)
        try:  # what uvicorn.run does for several workers, with a listening socket that names TCP
            Multiprocess(config, sockets=[listening_socket(config)]).run()
        except KeyboardInterrupt:
            pass
    else:
        freeze_heap()
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def listening_socket(config: uvicorn.Config) -> socket.socket:
    """uvicorn's listening socket for its worker processes, with its protocol named TCP.

    asyncio sets TCP_NODELAY only on accepted connections whose socket says IPPROTO_TCP; uvicorn's
    own (``Config.bind_socket``) says 0, and then every answer, written as head and body, waited
    ~40 ms on Nagle's algorithm and the client's delayed ACK (docs/benchmarks.md, bench/load.py).
    """
    sock = config.bind_socket()
    tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    tcp.set_inheritable(True)
    return tcp


def demo(
    ctx: typer.Context,
    instance: Annotated[Optional[Path], typer.Option("--instance", help="Demo instance folder (rebuilt on every run).")] = None,  # noqa: UP045
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo instance and exit.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build a demo instance (Nordic members, sharing groups, real public intel) and serve it."""
    import uvicorn

    from nordcert.app import create_app, freeze_heap
    from nordcert.demo.builder import build_demo

    base = settings_of(ctx)
    settings = base.model_copy(update={"home": instance or Path("./nordcert-demo"), "database_url": None,
                                       "instance_name": "Nordic Financial CERT (demo)"})
    info = build_demo(settings, progress=not as_json)
    if as_json:
        info.pop("banner")
        emit_json({**info, "url": None if no_serve else f"http://{host}:{port}/"})
    else:
        # The banner's examples name the default address; say the one this demo serves on.
        console.print(info["banner"].replace("http://127.0.0.1:8000", f"http://{host}:{port}"))
    if no_serve:
        return
    if not as_json:
        console.print(f"\nServing on [bold]http://{host}:{port}/[/]  ·  API docs: http://{host}:{port}/api/docs  ·  Ctrl-C stops")
    app = create_app(settings)
    freeze_heap()
    uvicorn.run(app, host=host, port=port, log_level="warning")
