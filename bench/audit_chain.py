"""Benchmark: the hash-chained audit store (R-10.3-audit).

1. Append: N events through ``zhili.core.audit.emit`` (the full path: event dict, SM3 chain
   link, three SQL statements in one transaction, JSON log line) in one process.
   Target >= 5,000 events/s.
2. Verify: a chain of M events (1,000,000 by default; written directly with correct links, as
   appending them one by one would only measure step 1 again) checked by ``zhili audit
   verify`` in a subprocess. Target <= 10 s.

    python bench/audit_chain.py [--events 20000] [--verify-events 1000000]
                                [--database sqlite|postgresql|both]

The machine is shared (2 cores, other helpers' tests): figures are noisy; the load average is
printed with them.
"""

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BenchEnvironment, args_without_database, loadavg, pg_reachable, print_table, setup_django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def fill_chain(count: int, batch: int = 20000) -> None:
    """Write ``count`` correctly linked events with bulk inserts (same canonical form as append)."""
    from django.db import connection, transaction

    from zhili.audit import chain

    start = datetime(2026, 1, 1, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_id, last_hash FROM {chain.HEAD} WHERE id = 1")
        last_id, prev = cursor.fetchone()
    name = chain.hash_name()
    vendor = connection.vendor
    cols = ", ".join(chain.COLUMNS)
    marks = ", ".join(["%s"] * len(chain.COLUMNS))
    event_id = last_id
    while event_id < last_id + count:
        rows = []
        for _ in range(min(batch, last_id + count - event_id)):
            event_id += 1
            when = start + timedelta(milliseconds=event_id)
            details = chain.details_text({"model": "people.resident", "n": event_id})
            fields = (
                "data.view",
                "bench",
                "10.0.0.1",
                "bench-agent",
                "",
                "people.resident",
                str(event_id),
                True,
                details,
            )
            digest = chain.link(prev, chain.canonical(event_id, chain.micros(when), *fields), name)
            db_time = when if vendor == "postgresql" else when.replace(tzinfo=None).isoformat(" ")
            rows.append((event_id, db_time, *fields, prev, digest))
            prev = digest
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {chain.TABLE} ({cols}) VALUES ({marks})", rows)
            cursor.execute(
                f"UPDATE {chain.HEAD} SET last_id = %s, last_hash = %s WHERE id = 1", [event_id, prev]
            )


def run(database: str, events: int, verify_events: int) -> dict:
    with BenchEnvironment(f"audit_{database}", database) as env:
        setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from zhili.core import audit

        for i in range(200):  # warm-up
            audit.emit("bench.warmup", details={"i": i})
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(events):
            audit.emit("data.view", details={"model": "people.resident", "i": i})
        append_s, append_cpu = time.perf_counter() - started, time.process_time() - cpu
        # the same events inside transactions of 100 (imports, bulk edits, one request's events)
        from django.db import transaction

        started = time.perf_counter()
        for _batch in range(events // 100):
            with transaction.atomic():
                for i in range(100):
                    audit.emit("data.view", details={"model": "people.resident", "i": i})
        batched_s = time.perf_counter() - started
        fill_started = time.perf_counter()
        fill_chain(verify_events - 2 * (events // 100) * 100 - 200)
        fill_s = time.perf_counter() - fill_started
        from django.db import connections

        connections.close_all()
        import resource

        started = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, "-m", "zhili.cli", "audit", "verify"],
            cwd=ROOT,
            env=env.server_env(PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
        )
        verify_s = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        verify_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"verify failed: {proc.stdout}{proc.stderr}")
        return {
            "database": database,
            "append_per_s": events / append_s,
            "append_per_cpu_s": events / append_cpu,
            "append_batched_per_s": (events // 100) * 100 / batched_s,
            "verify_cpu_s": verify_cpu,
            "verify_events": verify_events,
            "verify_s": verify_s,
            "verify_output": proc.stdout.strip(),
            "fill_s": fill_s,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    if args.database == "both":
        for db in ("sqlite", "postgresql"):
            subprocess.run(
                [sys.executable, __file__, *args_without_database(sys.argv[1:]), "--database", db], check=True
            )
        return
    if args.database == "postgresql" and not pg_reachable():
        raise SystemExit("PostgreSQL at 127.0.0.1:5432 is not reachable")
    print(f"load average before: {loadavg()}")
    result = run(args.database, args.events, args.verify_events)
    print_table(
        f"Audit chain on {args.database} (load average {loadavg()})",
        ["measure", "value", "target", "ok"],
        [
            [
                "append via emit, autocommit (events/s, wall)",
                f"{result['append_per_s']:,.0f}",
                ">= 5,000",
                result["append_per_s"] >= 5000,
            ],
            [
                "append via emit, autocommit (events/CPU-s)",
                f"{result['append_per_cpu_s']:,.0f}",
                ">= 5,000",
                result["append_per_cpu_s"] >= 5000,
            ],
            [
                "append via emit, 100 per transaction (events/s, wall)",
                f"{result['append_batched_per_s']:,.0f}",
                ">= 5,000",
                result["append_batched_per_s"] >= 5000,
            ],
            [
                f"zhili audit verify, {result['verify_events']:,} events (s, wall)",
                f"{result['verify_s']:.2f}",
                "<= 10",
                result["verify_s"] <= 10,
            ],
            [
                f"zhili audit verify, {result['verify_events']:,} events (CPU-s)",
                f"{result['verify_cpu_s']:.2f}",
                "<= 10",
                result["verify_cpu_s"] <= 10,
            ],
        ],
    )
    print(result["verify_output"])
    print("BENCH-RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
