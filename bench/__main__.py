"""``python -m bench [--quick] [--only NAME ...] [--out FILE]``: every row, one table, and the
rows as JSON in ``FILE`` (``bench-results.json`` in the working directory, which git ignores).
Exits 1 when any suite failed, after printing what the others measured."""

import argparse
import dataclasses
import json
import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.api_load import api_rows
from bench.broadcast import broadcast_rows
from bench.catch_up import catch_up_rows
from bench.cold_start import cold_start_rows
from bench.durability import durability_rows
from bench.env import BenchEnv, bench_env
from bench.ingest import ingest_rows
from bench.propagation import propagation_rows
from bench.rows import Row, format_table
from bench.scale import scale_rows
from node.runtime.local_ipfs import JSIPFS, KUBO

RESULTS = Path("bench-results.json")


def cold_start_suite(env: BenchEnv, quick: bool) -> list[Row]:
    return [Row(**row) for row in cold_start_rows(quick)]


SUITES: dict[str, Callable[[BenchEnv, bool], list[Row]]] = {
    "broadcast": broadcast_rows,
    "propagation": propagation_rows,
    "ingest": ingest_rows,
    "durability": durability_rows,
    "catch-up": catch_up_rows,
    "api": api_rows,
    "cold-start": cold_start_suite,
    "scale": scale_rows,
}


# Suites whose figures are the daemon's as much as the node's: run on both implementations.
DAEMON_BOUND = {"broadcast", "propagation", "catch-up"}
DAEMON_NAMES = {KUBO: "Kubo", JSIPFS: "js-ipfs"}


def run_suite(name: str, quick: bool, kind: str = KUBO) -> list[Row]:
    started = time.monotonic()
    try:
        with bench_env(kind) as env:
            rows = SUITES[name](env, quick)
    except Exception as exc:
        traceback.print_exc()
        rows = [
            Row(
                row=name,
                node=None,
                baseline=None,
                unit="",
                goal="",
                holds=None,
                note=f"failed: {type(exc).__name__}: {exc}",
            )
        ]
    print(f"[bench] {name} ({kind}): {time.monotonic() - started:.0f}s", flush=True)
    if name in DAEMON_BOUND:
        rows = [dataclasses.replace(r, row=f"[{DAEMON_NAMES[kind]}] {r.row}") for r in rows]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller run of every row (< 2 min)")
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), help="run these suites only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the rows go, as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: list[Row] = []
    for name in args.only or list(SUITES):
        for kind in (KUBO, JSIPFS) if name in DAEMON_BOUND else (KUBO,):
            rows += run_suite(name, args.quick, kind)
    print()
    print(format_table(rows))
    args.out.write_text(json.dumps([r.to_json() for r in rows], indent=2) + "\n")
    print(f"\nwrote {args.out}")
    failed = [r.row for r in rows if r.note.startswith("failed:")]
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
