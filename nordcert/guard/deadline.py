"""The read deadline: a GET or HEAD whose answer has not started after ``request_timeout_seconds`` is
answered 503 with ``Retry-After``, so a client never waits on a stuck read.

The work itself runs on in its worker thread until it ends (Python cannot stop a thread); its answer is
then dropped. Writes (POST, PUT, PATCH, DELETE) are never cut off: their answer says what was stored, and
a client told "timeout" could not know. Streamed answers (feeds, exports) start at once and are not
limited once started. One sweeper task per process looks at the reads in flight a few times a second
(while there are any), so a request costs a dictionary entry, not a timer.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nordcert.guard.answers import send_error

_log = logging.getLogger("nordcert.guard")
_READS = frozenset({"GET", "HEAD"})


class _Watched:
    """One read in flight: the ``send`` its route gets, which notes when the answer starts."""

    __slots__ = ("abandoned", "deadline", "late", "receive", "scope", "send", "started")

    def __init__(self, scope: Scope, receive: Receive, send: Send, deadline: float) -> None:
        self.scope, self.receive, self.send, self.deadline = scope, receive, send, deadline
        self.started = self.abandoned = False
        self.late: asyncio.Task[None] | None = None

    async def __call__(self, message: Message) -> None:
        if self.abandoned:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class ReadDeadline:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.tick = min(1.0, max(seconds / 10, 0.01))
        self._watching: dict[int, _Watched] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.seconds or scope["method"] not in _READS:
            await self.app(scope, receive, send)
            return
        watched = _Watched(scope, receive, send, time.monotonic() + self.seconds)
        self._watching[id(watched)] = watched
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        try:
            await self.app(scope, receive, watched)
        except Exception:
            if not watched.abandoned:
                raise
            _log.exception("%s %s failed after its 503 was sent", scope["method"], scope["path"])
        finally:
            self._watching.pop(id(watched), None)
            if watched.late is not None:
                await watched.late

    async def _sweep(self) -> None:
        try:
            while self._watching:
                await asyncio.sleep(self.tick)
                now = time.monotonic()
                for key, watched in list(self._watching.items()):
                    if watched.started:
                        del self._watching[key]
                    elif now >= watched.deadline:
                        del self._watching[key]
                        watched.abandoned = True
                        watched.late = asyncio.get_running_loop().create_task(send_error(
                            watched.scope, watched.receive, watched.send, 503, "timeout",
                            f"the answer took longer than {self.seconds:g} seconds; try again later, or ask for less",
                            {"Retry-After": "30"}))
        finally:
            self._sweeper = None
