"""Running the portal with uvicorn (``pennytrail serve``)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from pennytrail.app import snapshots

from . import guard
from .app import Config, create_app

log = logging.getLogger("pennytrail.portal")


def prepare(home: Path) -> str:
    """Make sure there is a published snapshot to serve; say what is served."""
    current = snapshots.current(home)
    if current is None and snapshots.warehouse_path(home).exists():
        try:
            current = snapshots.publish(home, wait=2.0)
        except snapshots.Busy:
            return "a close is running and nothing was published yet: pages will fill in when it completes"
    if current is None:
        return "nothing published yet: run `pennytrail close` (or `make demo`) first"
    return f"serving the published snapshot {current.name}"


ENVIRONMENT = "PENNYTRAIL_PORTAL_CONFIG"


def log_to_file(home: Path) -> None:
    """The portal's messages and errors (with their traces) go to HOME/portal/portal.log."""
    folder = home / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / "portal.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("pennytrail").addHandler(handler)
    logging.getLogger("pennytrail").setLevel(logging.INFO)


def from_environment():
    """The app of a worker process (``--workers`` above 1): its configuration from the environment."""
    raw = json.loads(os.environ[ENVIRONMENT])
    log_to_file(Path(raw["home"]))
    guard.configure(raw["header_timeout"], raw["idle_timeout_body"], raw["per_address"],
                    tuple(raw["trusted_proxies"]))
    return create_app(Config(Path(raw["home"]), Path(raw["data"]) if raw["data"] else None, raw["secure_cookies"],
                             raw["idle_timeout"], tuple(raw["trusted_proxies"]), raw["signoff_wait"]))


def serve(config: Config, host: str, port: int, forwarded_allow_ips: str = "127.0.0.1", workers: int = 1,
          header_timeout: float = 10.0, per_address: int = 32, idle_timeout: float = 15.0) -> None:
    """Serve until stopped. Connections are bounded (``guard``): a request's headers complete
    within ``header_timeout`` seconds, a body never idle for ``idle_timeout``, at most
    ``per_address`` connections from one client address (trusted proxies apart)."""
    import uvicorn

    log_to_file(Path(config.home))
    log.info(prepare(Path(config.home)))
    config.trusted_proxies = tuple(ip.strip() for ip in forwarded_allow_ips.split(",") if ip.strip())
    guard.configure(header_timeout, idle_timeout, per_address, config.trusted_proxies)
    options = dict(host=host, port=port, proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
                   server_header=False, log_level="info", access_log=True, timeout_keep_alive=5,
                   limit_concurrency=400, http="pennytrail.web.guard:HttpProtocol",
                   h11_max_incomplete_event_size=guard.HttpProtocol.max_header_bytes)
    if workers <= 1:
        uvicorn.run(create_app(config), **options)
        return
    os.environ[ENVIRONMENT] = json.dumps({
        "home": str(Path(config.home).resolve()), "data": str(config.data) if config.data else None,
        "secure_cookies": config.secure_cookies, "idle_timeout": config.idle_timeout,
        "trusted_proxies": list(config.trusted_proxies), "signoff_wait": config.signoff_wait,
        "header_timeout": header_timeout, "idle_timeout_body": idle_timeout, "per_address": per_address})
    uvicorn.run("pennytrail.web.server:from_environment", factory=True, workers=workers, **options)
