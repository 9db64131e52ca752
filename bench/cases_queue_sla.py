"""Cases at scale: department work-queue page latency and the SLA sweep over 1,000,000 historic
cases (100,000 open), and create-and-dispatch throughput — each next to a named peer in the
same run.

    python bench/cases_queue_sla.py [--database sqlite|postgresql|both] [--cases 1000000]
                                    [--open 100000] [--requests 300] [--create 500]

Data: cases are generated with raw batched inserts (``executemany``; ``COPY`` on PostgreSQL),
spread over 20 departments, 60 grids and the migration's categories over three years; 10 % of
them open with step deadlines around "now" so the sweep has warnings and escalations to make.

Peers, same data, same run:
- queue page: the generic registry list page of cases filtered to the same department (what a
  department would use without the queue), both rendered by the full Django stack in-process;
- SLA sweep: the per-row Python loop (read each open case, decide, ``save()`` it), timed on a
  10,000-case sample and scaled — what the set-based sweep replaces;
- create-and-dispatch: ``open_case`` + accept + dispatch through the state machine (events,
  audit, routing) vs. a bare ``Case.objects.create`` (no loop, no timeline).
The 2 cores are shared with other people's work: figures are noisy; ratios are steadier.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchEnvironment, args_without_database, loadavg, pg_reachable, print_table  # noqa: E402

TARGETS = {"queue_p99_ms": 100.0, "sweep_s": 2.0}
DEPARTMENTS = 20
GRIDS = 60


def build(total: int, open_count: int, seed: int = 5):
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    from zhili.accounts.models import User
    from zhili.cases.models import OPEN_STATES, Case, CaseCategory
    from zhili.orgs.models import Department
    from zhili.places.models import Division, Grid

    root = Department.objects.create(name="镇政府（基准）", code="BENCH-ROOT")
    departments = [
        Department.objects.create(name=f"部门{i}", code=f"BENCH-{i}", parent=root) for i in range(DEPARTMENTS)
    ]
    division = Division.objects.create(code="330106999000", name="基准镇", level="town")
    grids = [
        Grid.objects.create(code=f"BG{i:03d}", name=f"网格{i}", level=3, division=division)
        for i in range(GRIDS)
    ]
    categories = list(CaseCategory.objects.filter(children__isnull=True).values_list("pk", flat=True))
    user = User.objects.create_user("bench_dept", password="x", department=departments[0])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="cases"))
    user = User.objects.get(pk=user.pk)
    dispatcher = User.objects.create_user("bench_centre", password="x")
    dispatcher.user_permissions.add(*Permission.objects.filter(content_type__app_label="cases"))
    dispatcher = User.objects.get(pk=dispatcher.pk)

    rng = random.Random(seed)
    now = timezone.now()
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = [f.column for f in fields]
    closed_states = ("closed", "closed", "closed", "rejected", "merged")
    open_states = [s.value for s in OPEN_STATES]
    channels = ["resident", "hotline", "staff", "open311", "alarm", "patrol"]

    def row(i):
        is_open = i >= total - open_count
        reported = now - dt.timedelta(
            seconds=rng.randint(60, 3 * 365 * 86400) if not is_open else rng.randint(60, 30 * 86400)
        )
        status = rng.choice(open_states) if is_open else rng.choice(closed_states)
        lon, lat = 119.9 + rng.random() * 0.1, 30.2 + rng.random() * 0.1
        due = now + dt.timedelta(hours=rng.uniform(-48, 96)) if is_open else None
        values = {
            "created_at": reported,
            "updated_at": reported,
            "data_source": "import",
            "number": f"B{i:015d}",
            "category_id": categories[i % len(categories)],
            "title": f"基准事件{i}",
            "description": "",
            "channel": channels[i % len(channels)],
            "status": status,
            "urgent": False,
            "geometry": f'{{"type":"Point","coordinates":[{lon:.6f},{lat:.6f}]}}',
            "bbox_minx": lon,
            "bbox_miny": lat,
            "bbox_maxx": lon,
            "bbox_maxy": lat,
            "address": "",
            "grid_id": grids[i % GRIDS].pk,
            "department_id": departments[rng.randrange(DEPARTMENTS)].pk if status != "registered" else None,
            "reporter_name": "",
            "reporter_phone": "",
            "anonymous": False,
            "answers": "{}",
            "source_label": "",
            "source_id": "",
            "follow_digest": "",
            "step_started_at": reported if is_open else None,
            "due_at": due,
            "warn_at": due - dt.timedelta(hours=12) if due else None,
            "sla_state": "ok" if is_open else "",
            "escalation_level": 0,
            "reported_at": reported,
            "result": "",
            "feedback": "",
            "reject_reason": "",
            "reopen_count": 0,
            "rating_comment": "",
        }
        out = []
        for f in fields:
            value = values.get(f.attname)
            if isinstance(value, dt.datetime):
                value = connection.ops.adapt_datetimefield_value(value)
            out.append(value)
        return out

    start = time.perf_counter()
    batch = 20_000
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = (
                f"COPY {quote(Case._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                for i in range(total):
                    copy.write_row(row(i))
        else:
            sql = (
                f"INSERT INTO {quote(Case._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(columns))})"
            )
            for begin in range(0, total, batch):
                cursor.executemany(sql, [row(i) for i in range(begin, min(total, begin + batch))])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {quote(Case._meta.db_table)}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "user": user,
        "dispatcher": dispatcher,
        "departments": departments,
        "insert_s": time.perf_counter() - start,
    }


def timed_get(client, url, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return times


def p(times, q):
    return times[min(len(times) - 1, int(round(q * (len(times) - 1))))]


def reset_open(now):
    from zhili.cases.models import OPEN_STATES, Case

    Case.objects.filter(status__in=OPEN_STATES).update(sla_state="ok", escalation_level=0)


def run(database: str, args) -> list:
    with BenchEnvironment("cases", database):
        from bench._common import setup_django

        setup_django()
        import logging

        logging.disable(logging.INFO)
        from django.conf import settings
        from django.test import Client
        from django.utils import timezone

        settings.ALLOWED_HOSTS = ["*"]
        data = build(args.cases, args.open)
        print(
            f"[{database}] inserted {args.cases:,} cases in {data['insert_s']:.1f} s; load {loadavg()}",
            flush=True,
        )
        client = Client()
        client.force_login(data["user"])
        dept = data["departments"][0]
        timed_get(client, "/cases/queue/?queue=department", 5)  # warm up
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as queries:
                profile = cProfile.Profile()
                profile.enable()
                timed_get(client, "/cases/queue/?queue=department", 10)
                profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
            for q in queries.captured_queries[-12:]:
                print(q["time"], q["sql"][:400])
        queue = timed_get(client, "/cases/queue/?queue=department", args.requests)
        queue_overdue = timed_get(client, "/cases/queue/?queue=overdue", args.requests // 3)
        generic = timed_get(client, f"/cases/case/?department={dept.pk}", max(20, args.requests // 3))
        rows = [
            [
                database,
                "department queue page",
                f"{p(queue, 0.5):.1f}",
                f"{p(queue, 0.99):.1f}",
                f"≤ {TARGETS['queue_p99_ms']:.0f}",
            ],
            [
                database,
                "overdue queue page",
                f"{p(queue_overdue, 0.5):.1f}",
                f"{p(queue_overdue, 0.99):.1f}",
                "",
            ],
            [
                database,
                "peer: generic list ?department=",
                f"{p(generic, 0.5):.1f}",
                f"{p(generic, 0.99):.1f}",
                "",
            ],
        ]

        # SLA sweep (set-based) vs per-row loop on a sample
        from zhili.cases import sla
        from zhili.cases.models import OPEN_STATES, Case

        now = timezone.now()
        sweeps, steady, steady_counts = [], [], None
        for _ in range(3):
            reset_open(now)
            t0 = time.perf_counter()
            result = sla.sweep(now=now)
            sweeps.append(time.perf_counter() - t0)
            # the next minute: only the cases that cross a line in that minute
            t0 = time.perf_counter()
            steady_counts = sla.sweep(now=now + dt.timedelta(minutes=1))
            steady.append(time.perf_counter() - t0)
        open_now = Case.objects.filter(status__in=OPEN_STATES).count()
        reset_open(now)
        sample = 10_000
        t0 = time.perf_counter()
        from django.db import transaction

        with transaction.atomic():
            for case in Case.objects.filter(status__in=OPEN_STATES).order_by("pk")[:sample]:
                if case.due_at <= now:
                    case.sla_state = "overdue"
                    case.escalation_level += 1
                elif case.warn_at <= now:
                    case.sla_state = "warning"
                else:
                    continue
                case.save(update_fields=["sla_state", "escalation_level"])
        loop_scaled = (time.perf_counter() - t0) * open_now / sample
        rows.append(
            [
                database,
                f"SLA sweep catch-up over {open_now:,} open (warned {result['warned']:,}, escalated {result['escalated']:,})",
                f"{statistics.median(sweeps) * 1000:.0f}",
                f"{max(sweeps) * 1000:.0f}",
                f"≤ {TARGETS['sweep_s'] * 1000:.0f} ms",
            ]
        )
        rows.append(
            [
                database,
                f"peer: per-row save() loop, scaled from {sample:,}",
                f"{loop_scaled * 1000:.0f}",
                "",
                "",
            ]
        )
        rows.append(
            [
                database,
                f"SLA sweep, steady state: the next minute (warned {steady_counts['warned']}, "
                f"escalated {steady_counts['escalated']})",
                f"{statistics.median(steady) * 1000:.0f}",
                f"{max(steady) * 1000:.0f}",
                f"≤ {TARGETS['sweep_s'] * 1000:.0f} ms",
            ]
        )

        # create-and-dispatch throughput
        from zhili.cases import services
        from zhili.cases.models import CaseCategory

        road = CaseCategory.objects.get(code="city.road")
        user = data["dispatcher"]
        t0 = time.perf_counter()
        for i in range(args.create):
            case = services.open_case(
                category="city.road",
                title=f"吞吐{i}",
                location={"type": "Point", "coordinates": [119.95, 30.25]},
                user=user,
            )
            case = services.transition(case, "accept", user)
            services.transition(case, "dispatch", user, department=dept)
        loop_rate = args.create / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(args.create):
            Case.objects.create(category=road, title=f"裸插入{i}", department=dept)
        bare_rate = args.create / (time.perf_counter() - t0)
        rows.append([database, "create + accept + dispatch (cases/s)", f"{loop_rate:.0f}", "", ""])
        rows.append([database, "peer: bare Case.objects.create (rows/s)", f"{bare_rate:.0f}", "", ""])
        from django.db import connections

        connections.close_all()
        return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--create", type=int, default=500)
    args = parser.parse_args(argv)
    if args.database == "both":
        import subprocess

        rest = args_without_database(argv)
        for database in ("sqlite", "postgresql"):
            subprocess.run([sys.executable, __file__, "--database", database, *rest], check=False)
        return
    if args.database == "postgresql" and not pg_reachable():
        print("PostgreSQL on 127.0.0.1:5432 is not reachable")
        return
    rows = run(args.database, args)
    print_table(
        f"Cases: {args.cases:,} cases ({args.open:,} open), load {loadavg()}",
        ["database", "measure", "median / value (ms or /s)", "p99 / max (ms)", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
