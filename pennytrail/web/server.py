"""Running the portal with uvicorn (``pennytrail serve``)."""

from __future__ import annotations

import logging
from pathlib import Path

from pennytrail.app import snapshots

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


def serve(config: Config, host: str, port: int, forwarded_allow_ips: str = "127.0.0.1") -> None:
    import uvicorn

    folder = Path(config.home) / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / "portal.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("pennytrail").addHandler(handler)
    logging.getLogger("pennytrail").setLevel(logging.INFO)
    log.info(prepare(Path(config.home)))
    config.trusted_proxies = tuple(ip.strip() for ip in forwarded_allow_ips.split(",") if ip.strip())
    uvicorn.run(create_app(config), host=host, port=port, proxy_headers=True,
                forwarded_allow_ips=forwarded_allow_ips, server_header=False, log_level="info",
                access_log=True, timeout_keep_alive=5, limit_concurrency=400)
