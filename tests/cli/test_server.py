"""``nordcert serve``'s listening socket for several worker processes."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from nordcert.cli.server import listening_socket


def test_the_workers_listening_socket_gives_connections_tcp_nodelay() -> None:
    # Without TCP_NODELAY an answer written as head and body waits ~40 ms on the client's delayed ACK.
    config = uvicorn.Config("nordcert.app:create_app_from_environment", factory=True, host="127.0.0.1", port=0,
                            workers=2, log_level="warning")
    sock = listening_socket(config)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
        port = sock.getsockname()[1]

        async def accepted_nodelay() -> int:
            seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

            def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                writer.close()

            server = await asyncio.start_server(connected, sock=sock)
            async with server:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                value = await asyncio.wait_for(seen, 5)
                writer.close()
                return value

        assert asyncio.run(accepted_nodelay()) != 0
    finally:
        sock.close()
