"""The portal's route table: every page it serves is one ``Page``, and nothing else is served.

Each module of pages (``routes.py``, ``worker_pages.py``, …) exports ``PAGES``, a list of
``Page``; ``app.MODULES`` names the modules, and ``app.create_app`` builds from their pages the
Starlette routes, who may reach each (``roles``), which forms need a CSRF token (``csrf``), how
many threads a page's requests may take (``slow``), the largest body a request may carry
(``body``) and whose data a visitor may see (``scope``). The permission test
(tests/portal/test_permissions.py) iterates the same table, every page for every role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

PUBLIC = "public"  # a role meaning anyone, signed in or not
MAX_FORM = 256 * 1024  # the body of any form whose page sets no ``body``: fields of a few thousand characters
# scope: the visitor's own party only (see ``Page.scope``)
PARTY = "party"


@dataclass(frozen=True)
class Page:
    """One route of the portal.

    - ``method``, ``path``: as Starlette matches them (``/cases/{case_id:int}``).
    - ``handler``: ``handler(ctx, helpers, **path_params) -> Response``, run in a worker thread.
    - ``roles``: the accounts' roles allowed (``accounts.ROLES``), or ``(PUBLIC,)`` for anyone,
      signed in or not. Everyone else gets 403 (a visitor not signed in is sent to the sign-in
      page on a GET). A page with no roles is refused to everyone.
    - ``csrf``: a POST must carry the session's (or the sign-in form's) token. Only a form that
      changes nothing (``/verify``) sets it False.
    - ``slow``: the page may take long (a trace, a workbook, a sign-off, an upload, a password
      hash) and mostly waits outside the interpreter: its requests get more threads.
    - ``body``: the largest request body in bytes, counted as it streams in (413 beyond it);
      None is ``MAX_FORM``. Only for a path without parameters.
    - ``scope``: what limits a visitor whose account is tied to a party (a buyer, grower or
      intermediary, ``accounts.PARTY_ROLES``) to that party's own data:
        - None: the page shows nothing of one party, or only staff reach it;
        - ``PARTY`` (``"party"``): the handler shows only the parties in ``ctx.parties``: the
          visitor's own party, or None (every party) for staff;
        - the name of a path parameter (``"buyer_id"``): as ``PARTY``, and a request whose
          parameter names another party than the visitor's is answered 404 before the
          handler runs (the page is "not yours to see", never "forbidden", so that a party
          cannot learn which other parties exist).
    """

    method: str
    path: str
    handler: Callable
    roles: tuple[str, ...]
    csrf: bool = True
    slow: bool = False
    scope: str | None = None
    body: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def public(self) -> bool:
        return PUBLIC in self.roles


def check(pages: list[Page], roles: tuple[str, ...]) -> None:
    """Refuse a table that names a route twice, a role that does not exist, a scope parameter
    that is not in the path, or a body limit on a path with parameters."""
    seen: set[tuple[str, str]] = set()
    for p in pages:
        if p.key in seen:
            raise ValueError(f"{p.method} {p.path} is in the route table twice")
        seen.add(p.key)
        unknown = [r for r in p.roles if r != PUBLIC and r not in roles]
        if unknown:
            raise ValueError(f"{p.method} {p.path}: no role {', '.join(unknown)}")
        if p.scope not in (None, PARTY) and "{" + p.scope not in p.path:
            raise ValueError(f"{p.method} {p.path}: its scope {p.scope!r} is not a parameter of the path")
        if p.body is not None and "{" in p.path:
            raise ValueError(f"{p.method} {p.path}: a body limit is for a path without parameters")


def body_limits(pages: list[Page]) -> dict[str, int]:
    """The body limit of each path that has one of its own (the others: ``MAX_FORM``)."""
    return {p.path: p.body for p in pages if p.body is not None}
