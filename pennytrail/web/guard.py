"""The portal's connections, bounded before any request reaches the application.

uvicorn waits as long as a client likes for a request's headers and for the rest of its body,
and takes as many connections from one address as it is sent: sockets that send a request line
and then nothing fill its connection limit and every real visitor gets 503. ``HttpProtocol``
is uvicorn's HTTP protocol (httptools when installed, else h11) with three bounds:

- **headers**: a request's line and headers must be complete within ``header_timeout`` seconds
  of the connection opening or of the previous response, and hold at most ``max_header_bytes``;
  otherwise the connection is closed;
- **idle body**: while a request's body is being received, a connection that sends nothing for
  ``idle_timeout`` seconds is closed (time the application takes to read is not counted);
- **per address**: at most ``per_address`` connections at once from one client address; one
  more is answered 429 and closed. The addresses of trusted proxies (``--forwarded-allow-ips``)
  are exempt: every visitor behind the proxy shares them, and the proxy limits them itself.

The bounds are class attributes, set by ``configure`` (``pennytrail serve`` does, in each
server process).
"""

from __future__ import annotations

import asyncio
import logging
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # httptools is optional: h11 is always there
    _Base = H11Protocol

log = logging.getLogger("pennytrail.portal")

_TOO_MANY = b"Too many connections from your address: close some and try again.\n"
REFUSED = (b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 10\r\n"
           b"connection: close\r\ncontent-length: " + str(len(_TOO_MANY)).encode() + b"\r\n\r\n" + _TOO_MANY)


class _Bounded:
    header_timeout: float = 10.0
    idle_timeout: float = 15.0
    max_header_bytes: int = 64 * 1024
    per_address: int = 32
    exempt: frozenset[str] = frozenset({"127.0.0.1", "::1"})
    open_by_address: dict[str, int] = {}  # this process's connections by client address

    _address: str | None = None
    _refused = False
    _header_timer: asyncio.TimerHandle | None = None
    _idle_timer: asyncio.TimerHandle | None = None
    _seen = None  # the request cycle whose headers were last complete
    _header_bytes = 0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        peer = transport.get_extra_info("peername")
        address = peer[0] if isinstance(peer, (tuple, list)) and peer else None
        if address is not None and address not in self.exempt:
            count = self.open_by_address.get(address, 0)
            if count >= self.per_address:
                # answered and closed before the server counts it among its connections, so that
                # refused connections never take the places of others
                self._refused = True
                self.transport = transport
                self._log_refusal(address)
                transport.write(REFUSED)
                transport.close()
                return
            self.open_by_address[address] = count + 1
            self._address = address
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc) -> None:
        if self._refused:
            return
        self._cancel_timers()
        if self._address is not None:
            left = self.open_by_address.get(self._address, 1) - 1
            if left > 0:
                self.open_by_address[self._address] = left
            else:
                self.open_by_address.pop(self._address, None)
            self._address = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        waiting = self._header_timer is not None
        if waiting:
            self._header_bytes += len(data)
        super().data_received(data)
        self._follow()
        if waiting and self._header_timer is not None and self._header_bytes > self.max_header_bytes:
            self._close("headers larger than %d bytes" % self.max_header_bytes)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if not self.transport.is_closing() and (cycle is None or cycle.response_complete):
            self._await_headers()
        self._follow()

    refusals: dict[str, list] = {}  # address -> [refused since last logged, when last logged]

    @classmethod
    def _log_refusal(cls, address: str) -> None:
        """One log line a minute per address at most, with how many were refused meanwhile."""
        now = time.monotonic()
        seen = cls.refusals.setdefault(address, [0, now - 61])
        seen[0] += 1
        if now - seen[1] >= 60:
            log.warning("refused %d connection(s) from %s: %d open already", seen[0], address, cls.per_address)
            seen[0], seen[1] = 0, now
            if len(cls.refusals) > 10_000:
                cls.refusals.clear()

    # --- the timers -----------------------------------------------------------------------

    def _await_headers(self) -> None:
        self._seen = self.cycle
        self._header_bytes = 0
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _follow(self) -> None:
        """After bytes were parsed: stop the header clock once a new request's headers are in,
        and restart the idle clock while its body is still coming."""
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen and self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._header_timer is None and self._reading_body():
            self._idle_timer = self.loop.call_later(self.idle_timeout, self._idle)

    def _reading_body(self) -> bool:
        cycle = self.cycle
        return cycle is not None and cycle.more_body and not cycle.response_complete and not cycle.disconnected

    def _headers_late(self) -> None:
        self._header_timer = None
        self._close(f"no complete request headers within {self.header_timeout:g} s")

    def _idle(self) -> None:
        self._idle_timer = None
        if not self._reading_body():
            return
        if self.flow is not None and self.flow.read_paused:  # the application is not reading yet
            self._idle_timer = self.loop.call_later(self.idle_timeout, self._idle)
            return
        self._close(f"nothing received for {self.idle_timeout:g} s while reading a request's body")

    def _close(self, why: str) -> None:
        self._cancel_timers()
        if not self.transport.is_closing():
            log.info("closed a connection from %s: %s", self._address or "a trusted proxy", why)
            self.transport.close()

    def _cancel_timers(self) -> None:
        for name in ("_header_timer", "_idle_timer"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)


class HttpProtocol(_Bounded, _Base):
    """uvicorn's HTTP protocol with the bounds above (``uvicorn.run(http=HttpProtocol)``)."""


def configure(header_timeout: float | None = None, idle_timeout: float | None = None,
              per_address: int | None = None, exempt: tuple[str, ...] | None = None) -> None:
    if header_timeout is not None:
        _Bounded.header_timeout = float(header_timeout)
    if idle_timeout is not None:
        _Bounded.idle_timeout = float(idle_timeout)
    if per_address is not None:
        _Bounded.per_address = int(per_address)
    if exempt is not None:
        _Bounded.exempt = frozenset(exempt)
