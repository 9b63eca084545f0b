"""Unauthenticated abuse of the portal beside signed-in users, over loopback, bounded in counts and time.

    python bench/portal_abuse.py [--home HOME] [--scale demo] [--clients 10] [--seconds 20]

A real `pennytrail serve` is started on a free loopback port with no trusted proxy, so that the
per-address connection cap applies to every address. Signed-in monitors and accountants (from
127.0.0.1, as in ``portal_load.py``) open pages for --seconds alone, then for --seconds again
while, from other loopback addresses (127.0.0.2 to 127.0.0.9; Linux routes all of 127/8 to the
loopback):

- --slow sockets send a request line and then nothing, reopened as the server drops them
  (spread over four addresses);
- --uploads clients at a time send chunked uploads of up to 300 MB to /verify;
- --bombs clients at a time upload a 14.6 MB statement of five million empty objects;
- one client signs in to a locked account as fast as it is answered.

Printed, never asserted: the users' p50, p95 and maximum and their errors in each phase, what
became of each kind of abuse, the server's peak and final memory, and the audit entries the
locked account left. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import select
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
import httpx  # noqa: E402
import portal_load as load  # noqa: E402

from pennytrail.app import accounts, browse, portal_db, snapshots  # noqa: E402
from pennytrail.core import keys  # noqa: E402
from pennytrail.web.app import MAX_BODY  # noqa: E402

BOMB = b'{"statement": [' + b"{}," * 5_000_000 + b'{}], "signature": {}}'


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Abuse:
    def __init__(self, port: int, stop: threading.Event):
        self.port, self.stop = port, stop
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.upload_sent: list[int] = []

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def connect(self, address: str, timeout: float = 30.0) -> socket.socket:
        s = socket.socket()
        s.bind((address, 0))
        s.settimeout(timeout)
        s.connect(("127.0.0.1", self.port))
        return s

    def slow(self, address: str, n: int) -> None:
        """n sockets that send a request line and nothing more, reopened when dropped."""
        held: list[socket.socket] = []
        while not self.stop.is_set():
            while len(held) < n and not self.stop.is_set():
                try:
                    s = self.connect(address)
                    s.sendall(b"GET / HTTP/1.1\r\n")
                    s.setblocking(False)
                    held.append(s)
                    self.count("slow sockets opened")
                except OSError:
                    self.count("slow sockets refused at connect")
            readable, _, _ = select.select(held, [], [], 0.2)
            for s in readable:
                try:
                    data = s.recv(200)
                except OSError:
                    data = b""
                self.count("slow sockets answered 429" if data.startswith(b"HTTP/1.1 429") else
                           "slow sockets cut off by the server")
                held.remove(s)
                s.close()
        for s in held:
            s.close()

    def upload(self, address: str) -> None:
        """Chunked uploads of up to 300 MB to /verify, one after another."""
        chunk = b"x" * (1024 * 1024)
        part = b'--b\r\nContent-Disposition: form-data; name="pdf"; filename="x.pdf"\r\n\r\n'
        while not self.stop.is_set():
            sent, status = 0, b""
            try:
                with self.connect(address) as s:
                    s.sendall(b"POST /verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: "
                              b"multipart/form-data; boundary=b\r\n\r\n" + f"{len(part):x}\r\n".encode() + part
                              + b"\r\n")
                    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                    while sent < 300 * len(chunk) and not self.stop.is_set():
                        if select.select([s], [], [], 0)[0]:
                            status = s.recv(100)
                            break
                        s.sendall(frame)
                        sent += len(chunk)
                    if not status:
                        status = s.recv(100)
            except OSError:
                pass
            self.upload_sent.append(sent)
            self.count("uploads answered " + (status[9:12].decode() if status.startswith(b"HTTP/1.1") else "nothing"))

    def bomb(self, address: str) -> None:
        """A statement of five million empty objects, again and again."""
        head = (b'--b\r\nContent-Disposition: form-data; name="statement"; filename="s.json"\r\n'
                b"Content-Type: application/json\r\n\r\n")
        body = head + BOMB + b"\r\n--b--\r\n"
        request = (b"POST /verify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                   b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        while not self.stop.is_set():
            try:
                with self.connect(address, 120) as s:
                    s.sendall(request + body)
                    answer = b""
                    while True:
                        part = s.recv(65536)
                        if not part:
                            break
                        answer += part
                said = "refused unparsed" if b"not a pennytrail statement" in answer else answer[9:12].decode()
                self.count(f"statement bombs answered ({said})")
            except OSError as e:
                self.count(f"statement bombs failed ({type(e).__name__})")

    def hammer(self, address: str, email: str) -> None:
        """Sign-ins to a locked account, as fast as they are answered."""
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", transport=transport, timeout=30) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            while not self.stop.is_set():
                try:
                    r = c.post("/login", data={"email": email, "password": "not the password", "csrf_token": token})
                    self.count(f"locked sign-ins answered {r.status_code}")
                except httpx.HTTPError:
                    self.count("locked sign-ins failed")


def phase(base, users, names, ids, months, clients, seconds):
    times, errors, _ = asyncio.run(load.run_clients(base, users, names, ids, months, clients, seconds))
    everything = [t for v in times.values() for t in v]
    return everything, errors


def report(label: str, times: list[float], errors: list[str], seconds: float) -> None:
    print(f"  {label:<22} {len(times):>6,} requests ({len(times) / seconds:5.0f}/s)  p50 {load.pct(times, 50):7.1f} ms  "
          f"p95 {load.pct(times, 95):7.1f} ms  max {max(times) * 1000 if times else float('nan'):8.1f} ms  "
          f"{len(errors)} error(s)")
    for e in errors[:5]:
        print("    error:", e)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", help="a closed home to serve (default: generate and close --scale)")
    ap.add_argument("--scale", default="demo", choices=["demo", "season", "national"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", type=int, default=10, help="signed-in users (half monitors, half accountants)")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each phase (at most 120)")
    ap.add_argument("--slow", type=int, default=400, help="silent sockets held at once (at most 1000)")
    ap.add_argument("--uploads", type=int, default=4, help="chunked uploads at once (at most 16)")
    ap.add_argument("--bombs", type=int, default=8, help="statement bombs at once (at most 16)")
    args = ap.parse_args()
    seconds, slow = min(args.seconds, 120.0), min(args.slow, 1000)
    uploads, bombs = min(args.uploads, 16), min(args.bombs, 16)
    home = Path(args.home) if args.home else load.prepared_home(args.scale, args.seed)
    if snapshots.current(home) is None:
        snapshots.publish(home)
    if not browse.public_key_file(home).is_file():  # /verify checks statements against the program's key
        keys.create(home)
    users = {}
    for role in ("monitor", "accountant"):
        email, password = f"bench-{role}@example.org", secrets.token_urlsafe(16)
        if any(u.email == email for u in accounts.list_users(home)):
            accounts.set_password(home, email, password, by="bench")
        else:
            accounts.add_user(home, email, role, password, by="bench")
        users[role] = (email, password)
    locked = "bench-locked@example.org"
    if not any(u.email == locked for u in accounts.list_users(home)):
        accounts.add_user(home, locked, "monitor", secrets.token_urlsafe(16), by="bench")
    with portal_db.connect(home) as con:
        audit_before = con.execute("SELECT count(*) FROM audit WHERE actor = ?", [locked]).fetchone()[0]
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    names = [r[0] for r in con.execute("SELECT DISTINCT worker_name FROM payroll_rows WHERE worker_name IS NOT NULL "
                                       "USING SAMPLE 2000 ROWS").fetchall()]
    ids = [r[0] for r in con.execute("SELECT DISTINCT worker_id FROM payroll_rows USING SAMPLE 2000 ROWS").fetchall()]
    months = [r[0] for r in con.execute("SELECT DISTINCT month FROM pool_audit ORDER BY 1").fetchall()]
    con.close()
    stop = threading.Event()
    peak = [0.0]
    try:
        with load.serving(home, "portal-abuse.log", "--forwarded-allow-ips", "192.0.2.1") as (server, base):
            port = int(base.rsplit(":", 1)[1])

            def sample():
                while not stop.is_set() and server.poll() is None:
                    peak[0] = max(peak[0], rss_mb(server.pid) or 0.0)
                    time.sleep(0.1)

            for _ in range(accounts.MAX_FAILURES):  # lock the account (if a run before has not)
                try:
                    accounts.authenticate(home, locked, "not the password", "bench")
                except accounts.LockedOut:
                    break
            phase(base, users, names, ids, months, 2, 3)  # warm-up: the snapshot's caches
            print(f"portal abuse on {base}: {args.clients} signed-in users, {seconds:.0f} s alone then {seconds:.0f} s "
                  f"beside {slow} silent sockets, {uploads} chunked uploads and {bombs} statement bombs at a time "
                  f"and a locked account's sign-ins", flush=True)
            start_rss = rss_mb(server.pid)
            alone, alone_errors = phase(base, users, names, ids, months, args.clients, seconds)
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            abuse = Abuse(port, stop)
            threads = [threading.Thread(target=abuse.slow, args=(f"127.0.0.{2 + i}", -(-slow // 4)), daemon=True)
                       for i in range(4)]
            threads += [threading.Thread(target=abuse.upload, args=("127.0.0.6",), daemon=True) for _ in range(uploads)]
            threads += [threading.Thread(target=abuse.bomb, args=("127.0.0.7",), daemon=True) for _ in range(bombs)]
            threads.append(threading.Thread(target=abuse.hammer, args=("127.0.0.8", locked), daemon=True))
            for t in threads:
                t.start()
            time.sleep(1)  # the abuse under way before the users start again
            beside, beside_errors = phase(base, users, names, ids, months, args.clients, seconds)
            stop.set()
            for t in threads:
                t.join(30)
            time.sleep(1)
            end_rss = rss_mb(server.pid)
    finally:
        stop.set()
    print("signed-in users:")
    report("alone", alone, alone_errors, seconds)
    report("beside the abuse", beside, beside_errors, seconds)
    print("the abuse:")
    for what, n in sorted(abuse.counts.items()):
        print(f"  {what:<45} {n:>7,}")
    if abuse.upload_sent:
        print(f"  chunked uploads: at most {max(abuse.upload_sent) / 2**20:,.0f} MB sent of one before its answer "
              f"(limit {MAX_BODY / 2**20:.0f} MB)")
    with portal_db.connect(home) as con:
        rows = con.execute("SELECT action, count(*) FROM audit WHERE actor = ? GROUP BY 1",
                           [locked]).fetchall()
        total = con.execute("SELECT count(*) FROM audit WHERE actor = ?", [locked]).fetchone()[0]
    print(f"  audit entries of the locked account: {total - audit_before} new "
          f"({', '.join(f'{a}: {n}' for a, n in rows)} in all)")
    print(f"server memory: {start_rss or float('nan'):.0f} MB before the abuse, peak {peak[0]:.0f} MB, "
          f"{end_rss or float('nan'):.0f} MB after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
