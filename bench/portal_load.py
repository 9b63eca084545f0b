"""Load on the portal: concurrent signed-in clients over loopback, for a bounded time.

    python bench/portal_load.py [--home HOME] [--scale season] [--clients 50] [--seconds 60]

With no --home, the program of --scale (default season, seed 1) is generated into
bench/.cache/ (once) and closed there (once). A real `pennytrail serve` is started on a free
loopback port; half the clients are monitors searching workers by names and ids taken from
the payroll (one in four searches with the name's accents stripped and its letters upper-cased),
the other half accountants opening month pages and the months list. Then, with the load over,
one monitor opens --worker-pages worker pages (`/workers/G/W`, workers drawn from the payroll)
one after another. Every response must be 200; the p50, p95 and maximum of each kind are
printed, never asserted. The clients sign in with httpx; under load each then speaks HTTP/1.1
over one keep-alive connection of its own (``Connection``), light enough that on a machine of
two cores the time measured is mostly the server's. The server's CPU per request counts its
worker processes too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import unicodedata
from urllib.parse import quote, urlencode
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import httpx  # noqa: E402

from pennytrail.app import accounts, snapshots  # noqa: E402


def prepared_home(scale: str, seed: int) -> Path:
    cache = ROOT / "bench" / ".cache" / f"portal-{scale}-{seed}"
    data, home = cache / "data", cache / "home"
    if not (data / "answer_key.json").exists():
        shutil.rmtree(data, ignore_errors=True)
        print(f"generating the {scale} program into {data} …", flush=True)
        subprocess.run([sys.executable, "-m", "pennytrail.cli", "generate", "--out", str(data), "--seed", str(seed),
                        "--scale", scale], check=True)
    if snapshots.current(home) is None:
        print(f"closing it into {home} …", flush=True)
        subprocess.run([sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data), "--home", str(home)],
                       check=True, stdout=subprocess.DEVNULL)
    return home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(home: Path, log_name: str, *args: str):
    """`pennytrail serve` over ``home`` (with ``args``) on a free loopback port, its output in
    HOME/``log_name``, until the block ends: the server's process and its base URL."""
    port = free_port()
    log = open(home / log_name, "wb")
    server = subprocess.Popen([sys.executable, "-m", "pennytrail.cli", "serve", "--home", str(home), "--port",
                               str(port), *args], stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the portal did not start; see " + str(home / log_name))
            time.sleep(0.2)
        yield server, base
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def plain(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).upper()


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.status_code


class Connection:
    """One keep-alive HTTP/1.1 connection that sends GETs with the signed-in client's cookies and
    reads whole responses: a load client far lighter than a general one, so that on a machine of
    a few cores the time measured is the server's, not the client's own."""

    def __init__(self, host: str, port: int, cookie: str):
        self.host, self.port, self.cookie = host, port, cookie
        self.reader = self.writer = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, target: str) -> int:
        """The status of GET ``target`` (its body read to the end); reconnects once if the server
        had closed the idle connection."""
        for attempt in (0, 1):
            if self.writer is None:
                await self._open()
            self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                              f"Cookie: {self.cookie}\r\n\r\n".encode())
            try:
                await self.writer.drain()
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
                continue
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
            if "content-length" in headers:
                await self.reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await self.reader.readexactly(size + 2)
                    if size == 0:
                        break
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status
        raise ConnectionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_clients(base: str, users: dict, names: list[str], ids: list[str], months: list[str], clients: int,
                      seconds: float, on_start=None) -> tuple[dict, list]:
    times: dict[str, list[float]] = {"worker search": [], "month page": [], "months list": []}
    errors: list[str] = []
    signed: list[int] = []
    one_at_a_time = asyncio.Lock()
    go = asyncio.Event()
    stop = [0.0]
    url = httpx.URL(base)

    async def one(n: int) -> None:
        role = "monitor" if n % 2 == 0 else "accountant"
        rnd = random.Random(n)
        async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as c:
            async with one_at_a_time:  # before the clock starts, one by one: a sign-in is slow on purpose
                await sign_in(c, *users[role])
            cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        conn = Connection(url.host, url.port, cookie)
        signed.append(n)
        if len(signed) == clients:
            stop[0] = time.monotonic() + seconds
            if on_start is not None:
                on_start()
            go.set()
        await go.wait()
        while time.monotonic() < stop[0]:
            if role == "monitor":
                kind = "worker search"
                pick = rnd.random()
                q = rnd.choice(ids) if pick < 0.25 else rnd.choice(names)
                if 0.25 <= pick < 0.5:
                    q = plain(q)
                target = "/workers?" + urlencode({"q": q})
            else:
                if rnd.random() < 0.2:
                    kind, target = "months list", "/months"
                else:
                    kind, target = "month page", f"/months/{rnd.choice(months)}"
            t = time.perf_counter()
            try:
                status = await conn.get(target)
                ok, what = status == 200, status
            except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                ok, what = False, repr(e)
                conn.close()
            times[kind].append(time.perf_counter() - t)
            if not ok:
                errors.append(f"{kind} {target}: {what}")
        conn.close()

    await asyncio.gather(*(one(n) for n in range(clients)))
    return times, errors, stop[0] - seconds


async def worker_pages(base: str, user: tuple, pairs: list[tuple[str, str]]) -> tuple[list[float], list[str]]:
    """One signed-in monitor opening each worker's page in turn, the server otherwise idle."""
    times, errors = [], []
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as c:
        await sign_in(c, *user)
        for g, w in pairs:
            t = time.perf_counter()
            r = await c.get(f"/workers/{quote(g, safe='')}/{quote(w, safe='')}")
            times.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors.append(f"worker page /workers/{g}/{w}: {r.status_code}")
    return times, errors


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time so far of a process and of its running children (the server's
    worker processes with ``--workers``), Linux only; None elsewhere."""
    def own(p: int) -> tuple[int, float]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    try:
        total = own(pid)[1]
    except (OSError, ValueError, IndexError):
        return None
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != pid:
            try:
                parent, cpu = own(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                total += cpu
    return total


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000 if s else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", help="a closed home to serve (default: generate and close --scale)")
    ap.add_argument("--scale", default="season", choices=["demo", "season", "national"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--worker-pages", type=int, default=30, help="worker pages opened one at a time after the load")
    ap.add_argument("--workers", type=int, default=1, help="server processes (`pennytrail serve --workers`)")
    args = ap.parse_args()
    home = Path(args.home) if args.home else prepared_home(args.scale, args.seed)
    if snapshots.current(home) is None:
        snapshots.publish(home)
    users = {}
    for role in ("monitor", "accountant"):
        email, password = f"bench-{role}@example.org", secrets.token_urlsafe(16)
        if any(u.email == email for u in accounts.list_users(home)):
            accounts.set_password(home, email, password, by="bench")
        else:
            accounts.add_user(home, email, role, password, by="bench")
        users[role] = (email, password)
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    names = [r[0] for r in con.execute("SELECT DISTINCT worker_name FROM payroll_rows WHERE worker_name IS NOT NULL "
                                       "USING SAMPLE 2000 ROWS").fetchall()]
    ids = [r[0] for r in con.execute("SELECT DISTINCT worker_id FROM payroll_rows USING SAMPLE 2000 ROWS").fetchall()]
    pairs = sorted(con.execute("SELECT DISTINCT grower_id, worker_id FROM worker_audit").fetchall())
    pairs = random.Random(args.seed).sample(pairs, min(args.worker_pages, len(pairs)))
    months = [r[0] for r in con.execute("SELECT DISTINCT month FROM pool_audit ORDER BY 1").fetchall()]
    workers = con.execute("SELECT count(DISTINCT (grower_id, worker_id)), count(*) FROM payroll_rows").fetchone()
    con.close()
    with serving(home, "portal-bench.log", "--workers", str(args.workers)) as (server, base):
        # one warm-up pass: the first request of a snapshot reads its worker directory and month figures
        asyncio.run(run_clients(base, users, names, ids, months, 2, 3))
        print(f"portal load: {args.clients} clients for {args.seconds:.0f} s on {base} ({args.workers} server "
              f"process(es)), {workers[1]:,} payroll rows, "
              f"{workers[0]:,} workers, months {', '.join(months)}", flush=True)
        at_start = []
        times, errors, started = asyncio.run(run_clients(
            base, users, names, ids, months, args.clients, args.seconds,
            on_start=lambda: at_start.extend([cpu_seconds(server.pid), os.getloadavg()[0]])))
        cpu_before, load_before = at_start
        wall = time.monotonic() - started
        cpu_after, load_after = cpu_seconds(server.pid), os.getloadavg()[0]
        page_times, page_errors = asyncio.run(worker_pages(base, users["monitor"], pairs))
    total = sum(len(v) for v in times.values())
    print(f"{total:,} requests in {wall:.1f} s ({total / wall:.0f}/s), {len(errors)} error(s); machine load "
          f"average {load_before:.1f} before, {load_after:.1f} after")
    if cpu_before is not None and cpu_after is not None and total:
        # from the moment every client is signed in; steadier than the times on a busy machine
        print(f"server CPU {cpu_after - cpu_before:.1f} s: {(cpu_after - cpu_before) / total * 1000:.2f} ms a request")
    for kind, values in times.items():
        print(f"  {kind:<14} n={len(values):>6,}  p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms  "
              f"max {max(values) * 1000 if values else float('nan'):7.1f} ms")
    values = page_times
    print(f"one at a time, after the load: {len(values)} worker pages, {len(page_errors)} error(s)")
    print(f"  {'worker page':<14} n={len(values):>6,}  p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms  "
          f"max {max(values) * 1000 if values else float('nan'):7.1f} ms")
    for e in (errors + page_errors)[:10]:
        print("  error:", e)
    return 1 if errors or page_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
