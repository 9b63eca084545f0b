"""The portal: an ASGI application (Starlette) over the application layer.

``create_app(Config(home))`` builds it; ``pennytrail serve`` runs it with uvicorn. It is built
from one route table (``pages()``: each module's ``PAGES``, see ``table.py``), which says of every
route who may reach it, whether its form needs a CSRF token, how many threads it gets, how large
a body it takes and whose data a visitor sees; nothing else is served. Pages are rendered on
the server and work without JavaScript; no page carries a script. What the portal shows comes from the newest published snapshot of the
warehouse, never from the warehouse a close may be writing.
"""

from __future__ import annotations

import atexit
import contextlib
import hmac
import logging
import os
import secrets
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import anyio
import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from pennytrail.app import accounts, portal_db, snapshots

from . import calendar_pages, routes, sender_pages, submission_pages, worker_pages
from .table import MAX_FORM, PARTY, PUBLIC, Page, body_limits, check

log = logging.getLogger("pennytrail.portal")

HERE = Path(__file__).parent
ROLES = accounts.ROLES
SESSION_COOKIE = "pt_session"
NONCE_COOKIE = "pt_nonce"
# request bodies are counted as they stream in (chunked or not) and refused past the page's
# limit (``Page.body``; any other form: ``MAX_FORM``)
MAX_BODY = routes.MAX_VERIFY  # /verify: a statement, its PDF and CSV
MAX_ID = 2 ** 63 - 1  # a case's or a user's number beyond it names nothing

# every module of pages: the portal is built from their ``PAGES`` (table.py), and nothing else is served
MODULES = (routes, worker_pages, submission_pages, sender_pages, calendar_pages)


def pages() -> list[Page]:
    """The route table: every module's pages, in order."""
    return [p for module in MODULES for p in module.PAGES]


QUICK_THREADS = 2  # per route (also /verify: a statement's parse is Python, and bounded)
SLOW_THREADS = 8


@dataclass
class Config:
    home: Path
    data: Path | None = None
    secure_cookies: str = "auto"  # auto: Secure when the request came over https; always; never
    idle_timeout: int = accounts.IDLE
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    signoff_wait: float = 5.0


_open_snapshots: "weakref.WeakSet[Published]" = weakref.WeakSet()


@atexit.register
def _close_snapshots() -> None:
    for published in list(_open_snapshots):
        published.close(wait=10.0)


class Published:
    """The newest published snapshot, opened read-only once and reopened when a newer one is
    published; ``cache`` holds what was computed from it (a snapshot never changes).

    A request looks at the pointer file's inode (a publication replaces the file, so a new
    snapshot means a new inode) and reuses its thread's cursor of the snapshot it has open.

    ``close()`` waits for the warming thread and closes every cursor and connection; the server
    calls it when it stops, and it runs at the interpreter's exit for any instance left open:
    a DuckDB connection still open, or in use by a thread, while the interpreter finalises can
    abort the process after all its work is done."""

    def __init__(self, home: Path):
        self.home = home
        self._lock = threading.Lock()
        self.name: str | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._previous: list[duckdb.DuckDBPyConnection] = []
        self._stamp: tuple | None = None
        self._local = threading.local()
        self.cache: dict = {}
        self.key_locks: dict = {}
        self.cache_lock = threading.Lock()
        self._cursors: list[tuple] = []  # (connection, a thread's cursor of it)
        self._warming: threading.Thread | None = None
        self.closed = False
        _open_snapshots.add(self)

    def close(self, wait: float = 30.0) -> None:
        with self._lock:
            self.closed = True
            warming = self._warming
        if warming is not None and warming is not threading.current_thread():
            warming.join(wait)
        with self._lock:
            for _, c in self._cursors:
                try:
                    c.close()
                except duckdb.Error:
                    pass
            for c in [*self._previous, self._con]:
                if c is not None:
                    try:
                        c.close()
                    except duckdb.Error:
                        pass
            self._cursors, self._previous, self._con, self.name, self._stamp = [], [], None, None, None
            self._local = threading.local()

    def _pointer_stamp(self) -> tuple | None:
        try:
            st = os.stat(Path(self.home) / snapshots.FOLDER / snapshots.POINTER)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def cursor(self) -> duckdb.DuckDBPyConnection | None:
        if self.closed:
            return None
        stamp = self._pointer_stamp()
        if stamp is None or stamp != self._stamp or self._con is None:
            path = snapshots.current(self.home)
            if path is None:
                return None
            if path.name != self.name:
                with self._lock:
                    if path.name != self.name:
                        con = duckdb.connect(str(path), read_only=True)
                        if self._con is not None:
                            self._previous.append(self._con)
                        while len(self._previous) > 2:  # requests still reading an older one finish first
                            old = self._previous.pop(0)
                            self._cursors = [c for c in self._cursors if c[0] is not old]
                            old.close()
                        self._con, self.name, self.cache, self.key_locks = con, path.name, {}, {}
                        if self.warm is not None:
                            self._warming = threading.Thread(target=self.warm, args=(self,), daemon=True,
                                                             name="portal-warm")
                            self._warming.start()
            self._stamp = stamp
        con, name = self._con, self.name
        mine = getattr(self._local, "cursor", None)
        if mine is None or mine[0] is not con:
            with self._lock:
                if self.closed or con is None:
                    return None
                mine = self._local.cursor = (con, con.cursor())
                self._cursors.append(mine)
        return mine[1]

    warm: Callable | None = None  # called in a thread of its own when a new snapshot is opened

    def cached(self, key, compute: Callable):
        """``compute()`` once per snapshot and key; other keys are not held up meanwhile."""
        cache = self.cache
        if key in cache:
            return cache[key]
        with self.cache_lock:
            lock = self.key_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in cache:
                cache[key] = compute()
            return cache[key]


@dataclass
class Ctx:
    request: Request
    config: Config
    published: Published
    session: accounts.Session | None
    form: FormData | None
    nonce: str | None = None
    # the parties whose data the visitor may see on a page with a scope (table.Page.scope):
    # its own party for an account tied to one, None (every party) for staff
    parties: frozenset[str] | None = None
    set_cookies: list[tuple] = field(default_factory=list)

    @property
    def user(self) -> accounts.User | None:
        return self.session.user if self.session else None

    @property
    def party(self) -> str:
        """The visitor's own party on a page whose scope limits it to one (``table.Page.scope``).
        A visitor without a party of its own (staff) is answered 404: the page is a sender's own."""
        if not self.parties or len(self.parties) != 1:
            raise HTTPException(404)
        return next(iter(self.parties))

    @property
    def party_or_every(self) -> str | None:
        """The visitor's own party on a page with a scope, or None (every party) for staff."""
        return None if self.parties is None else self.party

    @property
    def address(self) -> str | None:
        return self.request.client.host if self.request.client else None

    def audit(self, action: str, subject: str | None = None, detail: str | None = None) -> None:
        u = self.user
        portal_db.record(self.config.home, u.email if u else "anonymous", u.role if u else None, action, subject,
                         detail, self.address)

    def db(self) -> duckdb.DuckDBPyConnection:
        con = self.published.cursor()
        if con is None:
            raise NothingPublished()
        return con

    def field(self, name: str, limit: int = 4000) -> str:
        value = self.form.get(name) if self.form is not None else self.request.query_params.get(name)
        if value is None or isinstance(value, UploadFile):
            return ""
        return str(value)[:limit]


class NothingPublished(Exception):
    pass


def is_https(request: Request, config: Config) -> bool:
    if config.secure_cookies == "always":
        return True
    if config.secure_cookies == "never":
        return False
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    return peer in config.trusted_proxies and request.headers.get("x-forwarded-proto", "").lower() == "https"


SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class BodyTooLarge(Exception):
    """A request's body went past its limit while it was being received."""


class Headers:
    """Security headers on every response, an upper bound on request bodies (declared or not:
    the bytes are counted as they arrive, and the first past the limit ends the request with
    413 before it is handed to anything that stores it), and a generic error page for anything
    unexpected (the details go to the log)."""

    def __init__(self, app, config: Config, render: Callable, limits: dict[str, int]):
        self.app, self.config, self.render, self.limits = app, config, render, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https" or (
            (scope.get("client") or ("",))[0] in self.config.trusted_proxies
            and dict(scope.get("headers") or []).get(b"x-forwarded-proto", b"").lower() == b"https")
        started = False
        limit = self.limits.get(scope.get("path"), MAX_FORM)
        received = 0
        too_large = False

        async def counted_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge()
            return message

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                if too_large:  # the rest of the body is not read: the connection ends with the response
                    headers = [(k, v) for k, v in headers if k.lower() != b"connection"] + [(b"connection", b"close")]
                names = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS.items():
                    if k.lower().encode() not in names:
                        headers.append((k.encode(), v.encode()))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        for k, v in scope.get("headers") or []:
            if k == b"content-length":
                try:
                    too_big = int(v) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    too_large = True
                    await self.render_error(scope, receive, send_with_headers, 413, too_large_text(limit))
                    return
        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await self.render_error(scope, receive, send_with_headers, 413, too_large_text(limit))
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("incident %s: %s %s", incident, scope.get("method"), scope.get("path"))
            if not started:
                await self.render_error(scope, receive, send_with_headers, 500,
                                        f"Something went wrong on our side (incident {incident}). "
                                        "It has been logged; please try again.")

    async def render_error(self, scope, receive, send, status: int, message: str):
        body = self.render("error.html", {"status": status, "message": message, "user": None, "csrf": ""})
        await HTMLResponse(body, status_code=status)(scope, receive, send)


def too_large_text(limit: int) -> str:
    if limit <= MAX_FORM:
        return "That upload is too large."
    return (f"That upload is too large: the most this page takes is {limit // (1024 * 1024)} MB. Nothing of it "
            "was kept. Split the file into smaller files and send each.")


ERROR_TEXT = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is no such page, or it is not yours to see.",
    405: "That action is not available here.",
    409: "That could not be done.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait and try again.",
    503: "The service is busy. Please try again shortly.",
}


def create_app(config: Config) -> Starlette:
    table = pages()
    check(table, ROLES)
    config.home = Path(config.home)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    routes.add_filters(env)
    published = Published(config.home)
    published.warm = lambda p: routes.warm(p, helpers)
    static = {p.name: (p.read_bytes(), "text/css" if p.suffix == ".css" else "image/svg+xml")
              for p in (HERE / "static").iterdir() if p.suffix in (".css", ".svg")}

    def render(name: str, context: dict) -> str:
        return env.get_template(name).render(**context)

    def page(ctx: Ctx, name: str, status_code: int = 200, **context) -> HTMLResponse:
        csrf = ctx.session.csrf if ctx.session else ""
        body = render(name, {"user": ctx.user, "csrf": csrf, "path": ctx.request.url.path,
                             "snapshot": ctx.published.name, **context})
        return HTMLResponse(body, status_code=status_code)

    def error(ctx: Ctx, status: int, message: str | None = None) -> HTMLResponse:
        return page(ctx, "error.html", status, status=status, message=message or ERROR_TEXT.get(status, "Error."))

    helpers = routes.Helpers(page=page, error=error, static=static,
                             macros=lambda name: env.get_template(name).module)

    limiters: dict[tuple[str, str], anyio.CapacityLimiter] = {}

    def limiter(route: tuple[str, str], slow: bool = False) -> anyio.CapacityLimiter:
        """The threads a route's requests run in, a few per route and a queue for the rest. A
        quick page's work is Python under one interpreter lock, so more threads than cores only
        make each request, and the event loop, wait longer; one queue per route keeps the
        visitors of one page from waiting behind those of another, costlier one. The slow pages
        (traces, workbooks, sign-offs, uploads, sign-ins) mostly wait for DuckDB, SQLite or a
        password hash, and have more."""
        if route not in limiters:
            limiters[route] = anyio.CapacityLimiter(SLOW_THREADS if slow else QUICK_THREADS)
        return limiters[route]

    def guarded(p: Page) -> Callable:
        method, path, handler, allowed, route = p.method, p.path, p.handler, p.roles, p.key

        def admit(ctx: Ctx) -> Response | None:
            """A response refusing the request, or None when the visitor may have the page."""
            if not allowed:
                log.error("refused %s %s: the route allows no role", method, path)
                return error(ctx, 403)
            if PUBLIC not in allowed:
                if ctx.session is None:
                    if method == "GET":
                        return RedirectResponse("/login", status_code=303)
                    return error(ctx, 403, "Please sign in first.")
                if ctx.session.user.role not in allowed:
                    return error(ctx, 403)
            if p.scope is not None and ctx.user is not None and ctx.user.role in accounts.PARTY_ROLES:
                ctx.parties = frozenset({ctx.user.party_id})
                if p.scope != PARTY and ctx.request.path_params.get(p.scope) not in ctx.parties:
                    return error(ctx, 404)
            return None

        def handle(ctx: Ctx, request: Request) -> Response:
            try:
                if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in request.path_params.values()):
                    raise HTTPException(404)
                response = handler(ctx, helpers, **request.path_params)
            except HTTPException as e:
                response = error(ctx, e.status_code, e.detail if e.detail not in (None, "") else None)
            except NothingPublished:
                response = error(ctx, 503, "Nothing has been published yet: a close must complete first.")
            secure = is_https(request, config)
            for name, value, max_age in ctx.set_cookies:
                if value is None:
                    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
                else:
                    response.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True,
                                        samesite="lax")
            return response

        def context(request: Request) -> Ctx:
            session = accounts.session_for(config.home, request.cookies.get(SESSION_COOKIE), config.idle_timeout)
            return Ctx(request, config, published, session, None, request.cookies.get(NONCE_COOKIE))

        def get(request: Request) -> Response:
            ctx = context(request)
            return admit(ctx) or handle(ctx, request)

        async def endpoint(request: Request) -> Response:
            if method != "POST":  # the session, the checks and the page in one trip to a thread
                return await anyio.to_thread.run_sync(get, request, limiter=limiter(route, p.slow))
            ctx = await anyio.to_thread.run_sync(context, request, limiter=limiter(("POST", "")))
            refused = admit(ctx)
            if refused is not None:
                return refused
            try:
                ctx.form = await request.form(max_files=4, max_fields=200, max_part_size=1024 * 1024)
            except BodyTooLarge:
                return error(ctx, 413, too_large_text(limits.get(path, MAX_FORM)))
            except Exception:
                return error(ctx, 400, "The form could not be read.")
            try:
                if p.csrf and not csrf_ok(ctx):
                    return error(ctx, 403, "This form has expired or did not come from this site. "
                                           "Go back, reload the page and try again.")
                return await anyio.to_thread.run_sync(handle, ctx, request, limiter=limiter(route, p.slow))
            finally:
                await ctx.form.close()

        return endpoint

    def csrf_ok(ctx: Ctx) -> bool:
        sent = ctx.field("csrf_token", 200)
        if not sent:
            return False
        if ctx.session is not None:
            return hmac.compare_digest(sent, ctx.session.csrf)
        if not ctx.nonce:
            return False
        return hmac.compare_digest(sent, accounts.anonymous_csrf(config.home, ctx.nonce))

    limits = body_limits(table)
    route_list = [Route(p.path, guarded(p), methods=[p.method]) for p in table]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        ctx = Ctx(request, config, published, None, None)
        return error(ctx, status if status in ERROR_TEXT else 404)

    async def server_error(request: Request, exc: Exception) -> Response:
        incident = secrets.token_hex(4)
        log.error("incident %s: %s %s", incident, request.method, request.url.path, exc_info=exc)
        ctx = Ctx(request, config, published, None, None)
        return error(ctx, 500, f"Something went wrong on our side (incident {incident}). It has been logged; "
                               "please try again.")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await anyio.to_thread.run_sync(published.close)

    app = Starlette(routes=route_list, lifespan=lifespan,
                    exception_handlers={404: not_found, 405: not_found, Exception: server_error})
    # no redirect to the same path with or without its last slash: Starlette builds it from the
    # Host header, which a visitor chooses
    app.router.redirect_slashes = False
    app.state.config = config
    app.state.published = published
    wrapped = Headers(app, config, render, limits)
    wrapped.state = app.state
    wrapped.routes = app.routes
    return wrapped
