"""The load bench's own HTTP client reads whole responses of every framing the portal sends, so
that what it times is a complete answer and a keep-alive connection stays in step."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.portal_load import Connection


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802
        Handler.seen.append((self.path, self.headers.get("Cookie", "")))
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"world" * 1000):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path.startswith("/close"):
            body = b"bye"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            body = b"x" * 70_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_connection_reads_each_framing_and_keeps_in_step():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        async def go():
            conn = Connection("127.0.0.1", server.server_address[1], "session=abc")
            got = [await conn.get(p) for p in ("/a?q=1", "/chunked", "/b", "/close", "/c")]
            conn.close()
            return got

        # in a thread of its own: a browser test of the same session may hold an event loop running
        # in this one
        got: list = []
        runner = threading.Thread(target=lambda: got.append(asyncio.run(go())))
        runner.start()
        runner.join(60)
        assert got == [[200, 200, 200, 404, 200]]
    finally:
        server.shutdown()
    assert Handler.seen == [(p, "session=abc") for p in ("/a?q=1", "/chunked", "/b", "/close", "/c")]
