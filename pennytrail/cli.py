"""The `pennytrail` command: a thin layer over the library.

Errors the user can act on are turned into a one-line message and exit code 1 in ``main``;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .money import dollars

EXAMPLES = {
    "generate": "pennytrail generate --out .pennytrail/data --seed 7 --scale demo",
    "close": "pennytrail close --data .pennytrail/data --home .pennytrail --month 2026-02",
    "demo": "pennytrail demo --home .pennytrail",
    "summary": "pennytrail summary --home .pennytrail",
    "signoff": "pennytrail signoff --home .pennytrail --month 2026-02 --by 'A. Accountant'",
}


class UserError(Exception):
    """A problem with the user's input or data, reported as one line."""


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from .generator import generate

    out = Path(args.out)
    start = time.perf_counter()
    key = generate(out, seed=args.seed, scale=args.scale, faults=not args.no_faults, progress=_log)
    print(f"generated {args.scale} program (seed {args.seed}) in {out} in {time.perf_counter() - start:.1f} s: "
          f"{key['payroll_rows']:,} payroll rows, {key['purchase_lines']:,} purchase lines, "
          f"{key['payment_lines']:,} payment lines, {key['workers']:,} workers; answer key in {out / 'answer_key.json'}")
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    from pipelines.runner import CloseFailed, close

    months = [args.month] if args.month else None
    if args.month and not _is_month(args.month):
        raise UserError(f"--month expects YYYY-MM, got {args.month!r}")
    start = time.perf_counter()
    try:
        done = close(Path(args.data), Path(args.home), months, progress=_log)
    except CloseFailed as e:
        raise UserError(f"the close did not complete: {e}") from None
    _log(f"closed {len(done)} month(s) in {time.perf_counter() - start:.1f} s")
    print(summary_text(Path(args.home)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo program if it is not there yet, close every month, print the summary."""
    from .generator import generate
    from pipelines.runner import CloseFailed, close

    home = Path(args.home)
    data = home / "data"
    key_file = data / "answer_key.json"
    if key_file.exists() and json.loads(key_file.read_text(encoding="utf-8")).get("seed") == args.seed:
        _log(f"demo data already in {data} (seed {args.seed}): not generated again")
    else:
        generate(data, seed=args.seed, scale="demo", progress=_log)
        _log(f"generated the demo program into {data}")
    before = _state(home)
    try:
        close(data, home, None, progress=_log)
    except CloseFailed as e:
        raise UserError(f"the close did not complete: {e}") from None
    after = _state(home)
    print(summary_text(home))
    if before == after:
        print("\nNothing new: every file was seen before and every table is unchanged.")
    return 0


def _state(home: Path) -> tuple | None:
    """A digest of what the warehouse holds (not when it was written)."""
    from .publish import MONTHLY
    from .warehouse import connect

    path = home / "pennytrail.duckdb"
    if not path.exists():
        return None
    with connect(path, read_only=True) as con:
        parts = [con.execute("SELECT count(*), coalesce(max(seq), 0) FROM ingest_log").fetchone(),
                 con.execute("SELECT count(*) FROM quarantine").fetchone()]
        for table in MONTHLY:
            parts.append(con.execute(f"SELECT count(*), md5(coalesce(string_agg(CAST(t AS VARCHAR), '|' ORDER BY "
                                     f"CAST(t AS VARCHAR)), '')) FROM {table} t").fetchone())
    return tuple(parts)


def summary_text(home: Path) -> str:
    from .publish import month_status
    from .warehouse import connect

    path = home / "pennytrail.duckdb"
    with connect(path, read_only=True) as con:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        files = q("SELECT status, count(*), sum(rows_read) FROM ingest_log GROUP BY 1 ORDER BY 1")
        rows = q("SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_accepted), 0), "
                 "coalesce(sum(rows_quarantined), 0) FROM ingest_log")[0]
        qcodes = q("SELECT code, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1")
        months = q("SELECT month, count(*), sum(entitled_cents), sum(funded_cents), sum(distributed_cents) "
                   "FROM pool_audit GROUP BY 1 ORDER BY 1")
        workers = q("SELECT count(*), count(DISTINCT worker_id) FROM worker_audit")[0]
        statuses = q("SELECT status, count(*) FROM worker_audit GROUP BY 1 ORDER BY 2 DESC")
        excs = q("SELECT code, count(*), sum(amount_cents) FROM exceptions GROUP BY 1 ORDER BY 2 DESC, 1")
        status = {m[0]: month_status(con, m[0]) for m in months}
    out = ["pennytrail summary", "=================="]
    out.append("files: " + ", ".join(f"{n} {s}" for s, n, _ in files))
    out.append(f"rows: {rows[0]:,} read, {rows[1]:,} accepted, {rows[2]:,} quarantined")
    if qcodes:
        out.append("quarantined by code: " + ", ".join(f"{c} {n}" for c, n in qcodes))
    out.append("months (pools, entitled, funded, distributed, sign-off):")
    for m, n, e, f, d in months:
        out.append(f"  {m}: {n} pools, {dollars(e)} entitled, {dollars(f)} funded, {dollars(d)} distributed, "
                   f"{status[m]}")
    out.append(f"workers audited: {workers[0]:,} rows for {workers[1]:,} workers ("
               + ", ".join(f"{s} {n}" for s, n in statuses) + ")")
    out.append("exceptions by code: " + (", ".join(f"{c} {n} ({dollars(a)})" for c, n, a in excs) or "none"))
    out.append(f"warehouse: {path}")
    out.append(f"Dagster runs: {home / 'dagster'} (see them with `make ui`)")
    return "\n".join(out)


def cmd_summary(args: argparse.Namespace) -> int:
    print(summary_text(Path(args.home)))
    return 0


def cmd_signoff(args: argparse.Namespace) -> int:
    from .publish import sign_off
    from .warehouse import connect

    if not _is_month(args.month):
        raise UserError(f"--month expects YYYY-MM, got {args.month!r}")
    with connect(Path(args.home) / "pennytrail.duckdb") as con:
        try:
            digest = sign_off(con, args.month, args.by)
        except ValueError as e:
            raise UserError(str(e)) from None
    print(f"{args.month} signed off by {args.by.strip()}; digest {digest}")
    return 0


def _is_month(text: str) -> bool:
    return len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() and 1 <= int(text[5:]) <= 12


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pennytrail",
        description="Follows every cent of a price premium from buyers to workers' pay stubs.",
        epilog="Start with `make demo`, or: " + EXAMPLES["demo"],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=f"example: {EXAMPLES[name]}")
        p.set_defaults(func=func)
        return p

    p = add("generate", cmd_generate, "Generate a program's data, with faults and an answer key.")
    p.add_argument("--out", required=True, help="folder to write reference/, inbox/ and answer_key.json into")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same bytes (default 1)")
    p.add_argument("--scale", choices=["demo", "season", "national"], default="demo",
                   help="demo: a few hundred workers; season: ~1M payroll rows; national: ~10M (default demo)")
    p.add_argument("--no-faults", action="store_true", help="generate clean data: the audit must find nothing")

    p = add("close", cmd_close, "Ingest new files, reconcile, check conservation and publish month(s).")
    p.add_argument("--data", required=True, help="data folder holding reference/ and inbox/")
    p.add_argument("--home", required=True, help="folder for the warehouse (pennytrail.duckdb) and Dagster runs")
    p.add_argument("--month", help="YYYY-MM to publish (default: every month in the data)")

    p = add("demo", cmd_demo, "Generate the demo program (once) into HOME/data and close every month.")
    p.add_argument("--home", default=".pennytrail", help="home folder (default .pennytrail)")
    p.add_argument("--seed", type=int, default=1, help="seed of the demo data (default 1)")

    p = add("summary", cmd_summary, "Print what the warehouse holds: files, rows, pools, workers, exceptions.")
    p.add_argument("--home", required=True, help="home folder of the warehouse")

    p = add("signoff", cmd_signoff, "Record that a person signed off a month's close, with a digest of its tables.")
    p.add_argument("--home", required=True, help="home folder of the warehouse")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--by", required=True, help="name of the person signing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"pennytrail: {e}", file=sys.stderr)
        return 1
    except FileNotFoundError as e:
        print(f"pennytrail: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
