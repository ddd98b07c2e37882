"""The read deadline: a GET or HEAD whose answer has not started after ``request_timeout_seconds`` is
answered 503 with ``Retry-After``, so a client never waits on a stuck read.

The work itself runs on in its worker thread until it ends (Python cannot stop a thread); its answer is
then dropped. Writes (POST, PUT, PATCH, DELETE) are never cut off: their answer says what was stored, and
a client told "timeout" could not know. Streamed answers (feeds, exports) start at once and are not
limited once started. The normal path costs one timer.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nordcert.guard.answers import send_error

_log = logging.getLogger("nordcert.guard")
_READS = frozenset({"GET", "HEAD"})


class ReadDeadline:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.seconds or scope["method"] not in _READS:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started = abandoned = False
        late: list[asyncio.Task[None]] = []

        def expire() -> None:
            nonlocal abandoned
            if not started:
                abandoned = True
                late.append(loop.create_task(send_error(
                    scope, receive, send, 503, "timeout",
                    f"the answer took longer than {self.seconds:g} seconds; try again later, or ask for less",
                    {"Retry-After": "30"})))

        timer = loop.call_later(self.seconds, expire)

        async def watched(message: Message) -> None:
            nonlocal started
            if abandoned:
                return
            if message["type"] == "http.response.start":
                started = True
                timer.cancel()
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if not abandoned:
                raise
            _log.exception("%s %s failed after its 503 was sent", scope["method"], scope["path"])
        finally:
            timer.cancel()
            for task in late:
                await task
