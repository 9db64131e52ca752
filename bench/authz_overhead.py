"""Benchmark: what data-scope restriction plus audit add to a residents list API request.

Builds the demo town (15,000 residents), signs in as a demo grid worker (role "grid worker",
scope: his grid; he holds the unmask action, so every response is audited as data.unmask),
and requests ``/api/people/residents/?grid=<his grid>&page_size=50`` through Django's test
client in one process, alternating rounds of the same view WITH the machinery and WITHOUT it
(``restrict``/``has_action``/``can_unmask`` patched to pass everything, audit sinks removed),
so both answer the same 50 rows. Reports the median per request of each and the overhead.

    python bench/authz_overhead.py [--rounds 20] [--per-round 25] [--database sqlite|postgresql|both]

Target: overhead <= 10 %. The machine is shared and noisy: the load average is printed too.
"""

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BenchEnvironment, args_without_database, loadavg, pg_reachable, print_table, setup_django  # noqa: E402


@contextlib.contextmanager
def without_audit():
    from zhili.core import audit

    saved = list(audit._sinks)
    audit._sinks.clear()
    try:
        yield
    finally:
        audit._sinks[:] = saved


@contextlib.contextmanager
def without_machinery():
    from zhili.core import audit, permissions
    from zhili.core.api import permissions as api_permissions
    from zhili.core.api import serializers, viewsets

    saved = (
        permissions.restrict,
        viewsets.restrict,
        api_permissions.has_action,
        serializers.can_unmask,
        list(audit._sinks),
    )

    def passthrough(queryset, user, action="view"):
        return queryset

    permissions.restrict = passthrough
    viewsets.restrict = passthrough
    api_permissions.has_action = lambda *args, **kwargs: True
    serializers.can_unmask = lambda user, model: True
    audit._sinks.clear()
    try:
        yield
    finally:
        permissions.restrict, viewsets.restrict, api_permissions.has_action, serializers.can_unmask = saved[
            :4
        ]
        audit._sinks[:] = saved[4]


def run(database: str, rounds: int, per_round: int) -> dict:
    with BenchEnvironment(f"authz_{database}", database):
        setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from zhili.demo.builder import build_demo

        build_demo(scale=1)
        from django.test import Client

        from zhili.audit.models import AuditEvent
        from zhili.places.models import Grid

        grid = Grid.objects.filter(level=3, members__username__startswith="grid").order_by("pk").first()
        worker = grid.members.filter(roles__code="grid_worker").order_by("pk").first()
        url = f"/api/people/residents/?grid={grid.pk}&page_size=50"
        client = Client()
        client.force_login(worker)

        def timed() -> list[float]:
            times = []
            for _ in range(per_round):
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.content[:200]
            return times

        with_times, without_times, restrict_only = [], [], []
        timed()  # warm-up
        with without_machinery():
            timed()
        events_before = AuditEvent.objects.count()
        for _ in range(rounds):
            with_times += timed()
            with without_machinery():
                without_times += timed()
            with without_audit():
                restrict_only += timed()
        audited = AuditEvent.objects.count() - events_before
        rows_with = len(client.get(url).json()["results"])
        with without_machinery():
            rows_without = len(client.get(url).json()["results"])
        with_ms = statistics.median(with_times) * 1000
        without_ms = statistics.median(without_times) * 1000
        return {
            "database": database,
            "with_ms": with_ms,
            "without_ms": without_ms,
            "overhead_pct": (with_ms / without_ms - 1) * 100,
            "restriction_only_ms": statistics.median(restrict_only) * 1000,
            "requests_each": len(with_times),
            "audit_events_written": audited,
            "rows": [rows_with, rows_without],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=25)
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
    r = run(args.database, args.rounds, args.per_round)
    print_table(
        f"Residents list API, 50 rows, {r['requests_each']} requests each (load average {loadavg()})",
        ["variant", "median ms", "rows"],
        [
            ["with restriction + audit", f"{r['with_ms']:.2f}", r["rows"][0]],
            ["without (same view)", f"{r['without_ms']:.2f}", r["rows"][1]],
            ["restriction only (audit sink off)", f"{r['restriction_only_ms']:.2f}", ""],
            ["overhead", f"{r['overhead_pct']:+.1f} %", "target <= 10 %"],
        ],
    )
    print(f"audit events written during the WITH requests: {r['audit_events_written']}")
    print("BENCH-RESULT " + json.dumps(r))


if __name__ == "__main__":
    main()
