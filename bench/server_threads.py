"""Benchmark: threads per worker of ``zhili up``, compared in alternating rounds on one database.

A shared machine's speed drifts by a fifth within minutes, so two configurations measured one
after the other can differ by more than the configurations themselves. This script fills one
database (the residents API benchmark's filler), then serves it with ``zhili up --threads N``
for each N in turn, round after round, and loads the residents list (grid and tag filter, page
of 50) at one concurrency with wrk. The table shows every round, so the spread is visible.

    python bench/server_threads.py [--residents 1000000] [--database sqlite|postgresql|both]
                                   [--threads 2,3,4] [--rounds 3] [--concurrency 16] [--seconds 15]

The default of ``zhili up --threads`` should be the N whose p99 is lowest in every round.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BenchEnvironment,
    ZhiliServer,
    args_without_database,
    free_port,
    machine_line,
    pg_reachable,
    print_table,
    reference_ms,
    setup_django,
)
from residents_api import create_users, fill_database, load, rotation, sign_in_all  # noqa: E402

USERS = 32


def run(args) -> None:
    threads = [int(n) for n in args.threads.split(",")]
    print(f"== server_threads: {args.residents:,} residents on {args.database}; {machine_line()}", flush=True)
    with BenchEnvironment("threads", args.database) as env:
        setup_django()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", interactive=False, verbosity=0)
        data = fill_database(args.residents)
        create_users(USERS)
        connections.close_all()
        paths = rotation(data["grid_ids"], data["tag_ids"])
        rows = []
        p99s: dict[int, list[float]] = {n: [] for n in threads}
        for round_number in range(1, args.rounds + 1):
            for n in threads:
                port = free_port()
                server = ZhiliServer(env.server_env(), port, extra_args=("--no-demo", "--threads", str(n)))
                try:
                    server.wait_ready(300)
                    sessions = sign_in_all(port, USERS)
                    load(port, sessions, paths, 4, 3, True)  # warm-up, not reported
                    reference = reference_ms()
                    figures = load(port, sessions, paths, args.concurrency, args.seconds, True)
                finally:
                    server.stop()
                p99s[n].append(figures["p99_ms"])
                rows.append(
                    [
                        round_number,
                        n,
                        f"{figures['rps']:.0f}",
                        f"{figures['p50_ms']:.1f}",
                        f"{figures['p99_ms']:.1f}",
                        figures["errors"],
                        f"{reference:.1f}",
                    ]
                )
                print(
                    f"round {round_number}, {n} threads: {figures['rps']:.0f} req/s, "
                    f"p99 {figures['p99_ms']:.1f} ms",
                    flush=True,
                )
    print_table(
        f"{args.database}: residents list at concurrency {args.concurrency}, {args.seconds:g} s per run, "
        "2 workers (zhili up's default on 2 cores)",
        ["round", "threads", "req/s", "p50 ms", "p99 ms", "errors", "speed reference ms"],
        rows,
    )
    for n in threads:
        print(f"  {n} threads: median p99 {statistics.median(p99s[n]):.1f} ms over {len(p99s[n])} rounds")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--threads", default="2,3,4", help="comma-separated thread counts to compare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk).")
        return 1
    if args.database == "both":
        for database in ["sqlite"] + (["postgresql"] if pg_reachable() else []):
            child = [sys.executable, __file__, *args_without_database(argv), "--database", database]
            if subprocess.call(child):
                return 1
        return 0
    if args.database == "postgresql" and not pg_reachable():
        print("PostgreSQL at 127.0.0.1:5432 is not reachable.")
        return 1
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
