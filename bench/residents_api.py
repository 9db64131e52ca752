"""Benchmark: the residents REST API under concurrent load, served by the real ``zhili up``.

Fills a fresh database with N residents (raw inserts in chunks of 10,000, one transaction per
chunk; ~40 grids per 15,000 residents; 10 tags on ~5 % of residents), starts
``python -m zhili.cli up --no-demo`` on 127.0.0.1, signs in through /accounts/login/ and
loads ``/api/people/residents/?grid=<id>&tags=<id>&page_size=50`` (rotating grids and tags)
as --users signed-in users (so that the per-user API rate limit, 6,000/min by default, is in force
but not hit: one user alone is not a town's load) with wrk (or a Python keep-alive thread pool when wrk is missing) at --concurrency, then at
32 against the server's own configuration (one worker per core, 2 threads each; on PostgreSQL a
pool of 10 shared by the workers).

    python bench/residents_api.py [--residents 1000000] [--database sqlite|postgresql|both]
                                  [--concurrency 16] [--seconds 20]

Target: p99 <= 100 ms at concurrency 16; no non-200 answer at concurrency 32.
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    HOST,
    PG_SERVER,
    BenchEnvironment,
    Browser,
    ZhiliServer,
    args_without_database,
    fmt,
    free_port,
    loadavg,
    machine_line,
    pg_reachable,
    print_table,
    resident_records,
    setup_django,
)

RESULT_PREFIX = "BENCH-RESULT "
TARGET_P99_MS = 100.0
CHUNK = 10_000
GRIDS_PER_15000 = 40
TAG_SHARE = 0.05
TAG_NAMES = (
    "独居老人",
    "残疾人",
    "低保户",
    "重点人员",
    "退役军人",
    "留守儿童",
    "高龄老人",
    "优抚对象",
    "志愿者",
    "党员",
)
USERNAME, PASSWORD = "bench", "Bench-pass-2024!"


# ---------------------------------------------------------------- data


def fill_database(residents: int, seed: int = 2700) -> dict:
    """Insert divisions, grids, tags and residents with raw SQL; return counts and timings."""
    from django.db import connection, transaction
    from django.utils import timezone

    from zhili.core.bulk import insert_rows
    from zhili.people.models import Resident, Tag
    from zhili.places.models import Division, Grid

    rng = random.Random(seed)
    started = time.perf_counter()
    town = Division(code="330110001000", name="基准镇", level="town")
    town.save()
    villages = []
    for index in range(20):
        village = Division(
            code=f"330110001{index + 1:03d}", name=f"基准村{index + 1}", level="village", parent=town
        )
        village.save()
        villages.append(village)
    n_grids = max(1, round(residents * GRIDS_PER_15000 / 15000))
    grids = [
        Grid(code=f"BG{index:05d}", name=f"第{index + 1}网格", division=villages[index % len(villages)])
        for index in range(n_grids)
    ]
    with transaction.atomic():
        Grid.objects.bulk_create(grids, batch_size=500)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE places_grid SET path = '/' || CAST(id AS TEXT) || '/', depth = 0")
    grid_ids = list(Grid.objects.order_by("id").values_list("id", flat=True))
    tags = [Tag.objects.create(name=name, category="care") for name in TAG_NAMES]
    tag_ids = [tag.pk for tag in tags]

    fields = [f for f in Resident._meta.concrete_fields if not f.generated]
    attnames = [f.attname for f in fields]
    now = timezone.now()
    constant = {
        "created_at": now,
        "updated_at": now,
        "data_source": "demo",
        "ethnicity": "汉族",
        "relation": "",
        "education": "",
        "occupation": "",
        "notes": "",
    }
    prepared = {
        name: Resident._meta.get_field(name).get_db_prep_save(v, connection) for name, v in constant.items()
    }
    birth_field = Resident._meta.get_field("birth_date")
    prep_date: dict = {}
    postgres = connection.vendor == "postgresql"
    tag_links: list[tuple[int, int]] = []
    records = resident_records(residents, seed=seed)
    inserted = 0
    pk = 0
    while inserted < residents:
        rows = []
        for number, birth, name, phone, residence, political, status, address in (
            next(records) for _ in range(min(CHUNK, residents - inserted))
        ):
            pk += 1
            if birth not in prep_date:
                prep_date[birth] = birth_field.get_db_prep_save(birth, connection)
            values = {
                "id": pk,
                "name": name,
                "id_number": number,
                "sex": "M" if int(number[16]) % 2 else "F",
                "birth_date": prep_date[birth],
                "phone": phone,
                "household_id": None,
                "house_id": None,
                "grid_id": grid_ids[rng.randrange(n_grids)],
                "residence_type": residence,
                "address": address,
                "political_status": political,
                "status": status,
                "created_by_id": None,
                "updated_by_id": None,
                "owner_unit_id": None,
                **prepared,
            }
            rows.append(tuple(values[a] for a in attnames))
            if rng.random() < TAG_SHARE:
                first = rng.choice(tag_ids)
                tag_links.append((pk, first))
                if rng.random() < 0.1:
                    second = rng.choice(tag_ids)
                    if second != first:
                        tag_links.append((pk, second))
        with transaction.atomic():
            if postgres:
                copy_rows(Resident._meta.db_table, [f.column for f in fields], rows)
            else:
                insert_rows(Resident, attnames, rows)
        inserted += len(rows)
        if inserted % 200_000 == 0 or inserted == residents:
            print(
                f"  {inserted:,} residents in {time.perf_counter() - started:.1f} s (load {loadavg()})",
                flush=True,
            )
    through = Resident.tags.through
    for start in range(0, len(tag_links), CHUNK):
        with transaction.atomic():
            if postgres:
                copy_rows(through._meta.db_table, ["resident_id", "tag_id"], tag_links[start : start + CHUNK])
            else:
                insert_rows(through, ["resident_id", "tag_id"], tag_links[start : start + CHUNK])
    filled = time.perf_counter() - started
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('people_resident', 'id'), (SELECT MAX(id) FROM people_resident))"
            )
            # What autovacuum does after a bulk load; without statistics the planner guesses.
            cursor.execute("VACUUM ANALYZE")
            # Write the bulk load's dirty pages out now: otherwise the checkpointer and the
            # kernel's writeback take a quarter of a core during the measured run.
            cursor.execute("CHECKPOINT")
    else:
        # What `zhili up` does when it starts (zhili/core/dbstats.py); SQLite never does it alone.
        from zhili.core.dbstats import refresh_statistics

        refresh_statistics()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()
    return {
        "residents": residents,
        "grids": n_grids,
        "tags": len(tag_ids),
        "tag_links": len(tag_links),
        "fill_seconds": filled,
        "fill_and_analyze_seconds": time.perf_counter() - started,
        "grid_ids": grid_ids,
        "tag_ids": tag_ids,
    }


def copy_rows(table: str, columns: list[str], rows: list[tuple]) -> None:
    """PostgreSQL COPY … FROM STDIN through the Django connection's psycopg cursor."""
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(row)


def build_demo_town(residents: int) -> dict:
    from zhili.demo.builder import build_demo
    from zhili.people.models import Resident, Tag
    from zhili.places.models import Grid

    scale = max(1, round(residents / 15000))
    started = time.perf_counter()
    build_demo(scale=scale, stdout=sys.stdout)
    seconds = time.perf_counter() - started
    return {
        "residents": Resident.objects.count(),
        "grids": Grid.objects.count(),
        "tags": Tag.objects.count(),
        "tag_links": Resident.tags.through.objects.count(),
        "fill_seconds": seconds,
        "fill_and_analyze_seconds": seconds,
        "demo_scale": scale,
        "grid_ids": list(Grid.objects.values_list("id", flat=True)),
        "tag_ids": list(Tag.objects.values_list("id", flat=True)),
    }


def create_users(count: int) -> None:
    """Create ``count`` benchmark superusers (bench, bench02, …) with PASSWORD."""
    from django.contrib.auth import get_user_model

    first = get_user_model().objects.create_superuser(USERNAME, password=PASSWORD)
    for number in range(2, count + 1):
        # The same password hash: hashing once is enough for benchmark accounts.
        get_user_model().objects.create(
            username=f"{USERNAME}{number:02d}", password=first.password, is_superuser=True, is_staff=True
        )


def sign_in_all(port: int, count: int) -> list[str]:
    """Sign the ``count`` benchmark users in to the server on ``port``; return their session ids."""
    sessions = []
    for number in range(1, count + 1):
        browser = Browser(port)
        sessions.append(browser.sign_in(USERNAME if number == 1 else f"{USERNAME}{number:02d}", PASSWORD))
        browser.close()
    return sessions


def url_for(grid_id: int, tag_id: int) -> str:
    return f"/api/people/residents/?grid={grid_id}&tags={tag_id}&page_size=50"


def rotation(grid_ids: list[int], tag_ids: list[int], count: int = 4000, seed: int = 16) -> list[str]:
    rng = random.Random(seed)
    return [url_for(rng.choice(grid_ids), rng.choice(tag_ids)) for _ in range(count)]


# ---------------------------------------------------------------- queries and plans


def analyse_queries(sample_paths: list[str], repeats: int = 30) -> dict:
    """Serve the URL in-process; return the queries of one request, their plans and the mean time."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username=USERNAME))
    client.get(sample_paths[0])  # warm caches (filtersets, serializers, translations)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(sample_paths[1])
    if response.status_code != 200:
        raise RuntimeError(f"in-process GET {sample_paths[1]} answered {response.status_code}")
    queries = [q["sql"] for q in captured.captured_queries]
    plans = []
    with connection.cursor() as cursor:
        for sql in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plan = "\n".join(f"    {row[-1]}" for row in cursor.fetchall())
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
            plans.append((sql, plan))
    timings = []
    for path in sample_paths[2 : 2 + repeats]:
        start = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
    results = json.loads(response.content)["results"]
    profiler = cProfile.Profile()
    profiler.enable()
    for path in sample_paths[40:140]:
        client.get(path)
    profiler.disable()
    out = io.StringIO()
    out.write("cProfile of 100 in-process requests, by cumulative time (top 30):\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    out.write("\nby internal time (top 25):\n")
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return {
        "profile": out.getvalue(),
        "query_count": len(queries),
        "plans": plans,
        "inprocess_mean_ms": statistics.mean(timings),
        "inprocess_max_ms": max(timings),
        "sample_results": len(results),
    }


# ---------------------------------------------------------------- load


WRK_LUA = r"""
local paths = {%(paths)s}
local sessions = {%(sessions)s}
local threads = {}
counter = 0
non200 = 0

function setup(thread)
  thread:set("offset", #threads * 997)
  table.insert(threads, thread)
end

function init(args)
  counter = offset or 0
  non200 = 0
end

function request()
  counter = counter + 1
  local cookie = "sessionid=" .. sessions[(counter %% #sessions) + 1]
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Cookie"] = cookie})
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
  end
  local e = summary.errors
  io.write(string.format("BENCH requests=%%d duration_us=%%d non200=%%d connect=%%d read=%%d write=%%d timeout=%%d p50_us=%%d p90_us=%%d p99_us=%%d max_us=%%d\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def run_wrk(port: int, sessions: list[str], paths: list[str], concurrency: int, seconds: float) -> dict:
    lua_paths = ",".join(json.dumps(p) for p in paths)
    lua_sessions = ",".join(json.dumps(s) for s in sessions)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA % {"paths": lua_paths, "sessions": lua_sessions})
        script = fh.name
    threads = max(1, min(2, concurrency))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        script,
        f"http://{HOST}:{port}/",
    ]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    finally:
        Path(script).unlink(missing_ok=True)
    match = re.search(r"^BENCH (.*)$", proc.stdout, re.M)
    if not match:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    values = {k: int(v) for k, v in (item.split("=") for item in match.group(1).split())}
    socket_errors = values["connect"] + values["read"] + values["write"] + values["timeout"]
    return {
        "tool": "wrk",
        "requests": values["requests"],
        "rps": values["requests"] / (values["duration_us"] / 1e6),
        "p50_ms": values["p50_us"] / 1000,
        "p90_ms": values["p90_us"] / 1000,
        "p99_ms": values["p99_us"] / 1000,
        "max_ms": values["max_us"] / 1000,
        "errors": values["non200"] + socket_errors,
        "non200": values["non200"],
        "socket_errors": socket_errors,
    }


def run_python_load(
    port: int, sessions: list[str], paths: list[str], concurrency: int, seconds: float
) -> dict:
    """Keep-alive http.client connections in ``concurrency`` threads, bounded by ``seconds``."""
    import http.client

    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    non200 = [0] * concurrency
    socket_errors = [0] * concurrency

    def worker(index: int):
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        headers = {"Cookie": f"sessionid={sessions[index % len(sessions)]}"}
        position = index * 997
        while time.monotonic() < deadline:
            path = paths[position % len(paths)]
            position += 1
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError:
                socket_errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            latencies[index].append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                non200[index] += 1
        conn.close()

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(seconds + 60)
    elapsed = time.monotonic() - started
    every = sorted(x for part in latencies for x in part)
    if not every:
        raise RuntimeError("no request completed")

    def pct(p):
        return every[min(len(every) - 1, int(len(every) * p / 100))]

    return {
        "tool": "python",
        "requests": len(every),
        "rps": len(every) / elapsed,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": every[-1],
        "errors": sum(non200) + sum(socket_errors),
        "non200": sum(non200),
        "socket_errors": sum(socket_errors),
    }


class PgConnectionWatcher(threading.Thread):
    """Samples the number of server connections to the benchmark database every 0.2 s."""

    def __init__(self, dbname: str):
        super().__init__(daemon=True)
        self.dbname = dbname
        self.maximum = 0
        self._stop_event = threading.Event()

    def run(self):
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            while not self._stop_event.wait(0.2):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.dbname]
                ).fetchone()
                self.maximum = max(self.maximum, row[0])

    def stop(self) -> int:
        self._stop_event.set()
        self.join(5)
        return self.maximum


def load(port, sessions, paths, concurrency, seconds, use_wrk, dbname=None) -> dict:
    watcher = PgConnectionWatcher(dbname) if dbname else None
    if watcher:
        watcher.start()
    before = loadavg()
    runner = run_wrk if use_wrk else run_python_load
    result = runner(port, sessions, paths, concurrency, seconds)
    result["concurrency"] = concurrency
    result["load_before"] = before
    result["load_after"] = loadavg()
    if watcher:
        result["pg_max_connections"] = watcher.stop()
    return result


# ---------------------------------------------------------------- main


def run(args) -> dict:
    print(
        f"== residents_api: {args.residents:,} residents on {args.database}; {machine_line()}",
        flush=True,
    )
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    figures: dict = {"database": args.database, "load_generator": "wrk" if use_wrk else "python"}
    with BenchEnvironment("api", args.database, keep=args.keep) as env:
        setup_django()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", interactive=False, verbosity=0)
        figures["pool_max"] = settings.DB_POOL_MAX if args.database == "postgresql" else None
        demo = None
        if args.demo:
            try:
                from zhili.demo.builder import build_demo  # noqa: F401

                demo = True
            except ImportError as error:
                print(f"zhili.demo.builder is not available ({error}): using the raw filler")
        print("filling the database…", flush=True)
        data = build_demo_town(args.residents) if demo else fill_database(args.residents)
        figures.update({k: v for k, v in data.items() if k not in ("grid_ids", "tag_ids")})
        figures["fill_method"] = (
            f"build_demo(scale={data['demo_scale']})"
            if demo
            else ("COPY" if args.database == "postgresql" else "executemany") + f" in chunks of {CHUNK:,}"
        )
        print(
            f"filled {data['residents']:,} residents, {data['grids']:,} grids, {data['tags']} tags, "
            f"{data['tag_links']:,} tag links in {data['fill_seconds']:.1f} s "
            f"({data['residents'] / data['fill_seconds']:,.0f} residents/s; with ANALYZE "
            f"{data['fill_and_analyze_seconds']:.1f} s)",
            flush=True,
        )
        create_users(args.users)
        figures["users"] = args.users
        paths = rotation(data["grid_ids"], data["tag_ids"])
        figures.update(analyse_queries(paths))
        figures["plans"] = [[sql, plan] for sql, plan in figures["plans"]]
        for conn in connections.all():
            conn.close()
            with contextlib.suppress(Exception):
                conn.close_pool()

        port = free_port()
        extra = (
            ("--no-demo",)
            + (("--threads", str(args.threads)) if args.threads else ())
            + (("--workers", str(args.workers)) if args.workers else ())
        )
        server = ZhiliServer(env.server_env(), port, extra_args=extra)
        try:
            figures["server_start_seconds"] = server.wait_ready(300)
            sessions = []
            for number in range(1, args.users + 1):
                browser = Browser(port)
                sessions.append(
                    browser.sign_in(USERNAME if number == 1 else f"{USERNAME}{number:02d}", PASSWORD)
                )
                status, _headers, body = browser.get(paths[0])
                if status != 200 or "results" not in json.loads(body):
                    raise RuntimeError(f"GET {paths[0]} answered {status}: {body[:300]!r}")
                browser.close()
            dbname = f"zhili_bench_{env.name}" if args.database == "postgresql" else None
            load(port, sessions, paths, 4, min(3, args.seconds), use_wrk)  # warm-up, not reported
            figures["main"] = load(port, sessions, paths, args.concurrency, args.seconds, use_wrk, dbname)
            print(f"concurrency {args.concurrency}: {json.dumps(figures['main'])}", flush=True)
            figures["own_config"] = load(
                port, sessions, paths, args.high_concurrency, args.seconds, use_wrk, dbname
            )
            print(f"concurrency {args.high_concurrency}: {json.dumps(figures['own_config'])}", flush=True)
        finally:
            server.stop()
        output = server.output()
        figures["server_too_many_clients"] = output.lower().count("too many clients")
        figures["server_tracebacks"] = output.count("Traceback")
        from zhili.cli import build_parser
        from zhili.server import default_workers

        threads = args.threads or build_parser().parse_args(["up"]).threads  # zhili up's own default
        figures["server_threads"] = f"{threads} per worker × {args.workers or default_workers()} workers"
        connections.close_all()
    return figures


def report(all_figures: list[dict], args) -> None:
    rows = []
    for f in all_figures:
        for key in ("main", "own_config"):
            r = f[key]
            label = "target config" if key == "main" else "zhili up's own config"
            rows.append(
                [
                    f"{f['database']} ({label})",
                    r["concurrency"],
                    fmt(r["requests"]),
                    fmt(r["rps"], 1),
                    f"{r['p50_ms']:.1f}",
                    f"{r['p90_ms']:.1f}",
                    f"{r['p99_ms']:.1f}",
                    f"{r['max_ms']:.1f}",
                    r["errors"],
                    r.get("pg_max_connections", "-"),
                    r["load_before"],
                ]
            )
    print_table(
        f"GET /api/people/residents/?grid=…&tags=…&page_size=50, {args.seconds:g} s per run, "
        f"server threads {all_figures[0]['server_threads']}, {all_figures[0]['users']} users, "
        f"load generator {all_figures[0]['load_generator']}",
        [
            "database",
            "conc.",
            "requests",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "errors",
            "PG conns",
            "load avg",
        ],
        rows,
    )
    data_rows = []
    for f in all_figures:
        data_rows.append(
            [
                f["database"],
                fmt(f["residents"]),
                fmt(f["grids"]),
                f["tags"],
                fmt(f["tag_links"]),
                f["fill_method"],
                f"{f['fill_seconds']:.1f}",
                fmt(f["residents"] / f["fill_seconds"]),
                f["query_count"],
                f"{f['inprocess_mean_ms']:.1f}",
            ]
        )
    print_table(
        "Data and per-request work",
        [
            "database",
            "residents",
            "grids",
            "tags",
            "tag links",
            "fill method",
            "fill s",
            "rows/s",
            "queries/request",
            "in-process ms/request",
        ],
        data_rows,
    )
    checks = []
    for f in all_figures:
        main, own = f["main"], f["own_config"]
        checks.append(
            [
                f"{f['database']}: p99 <= {TARGET_P99_MS:.0f} ms at concurrency {main['concurrency']}",
                f"{main['p99_ms']:.1f} ms",
                "PASS" if main["p99_ms"] <= TARGET_P99_MS and main["errors"] == 0 else "MISS",
            ]
        )
        checks.append(
            [
                f"{f['database']}: no errors at concurrency {own['concurrency']} (own config)",
                f"{own['errors']} errors",
                "PASS" if own["errors"] == 0 else "MISS",
            ]
        )
        if f["database"] == "postgresql":
            peak = max(main.get("pg_max_connections", 0), own.get("pg_max_connections", 0))
            ok = peak <= (f["pool_max"] or 10) and f["server_too_many_clients"] == 0
            checks.append(
                [
                    f"postgresql: connections <= pool max {f['pool_max']}, no 'too many clients'",
                    f"peak {peak}, {f['server_too_many_clients']} messages",
                    "PASS" if ok else "MISS",
                ]
            )
        checks.append([f"{f['database']}: tracebacks in the server output", f["server_tracebacks"], ""])
    print_table("Targets", ["check", "value", "result"], checks)
    for f in all_figures:
        missed = f["main"]["p99_ms"] > TARGET_P99_MS
        if args.explain or missed:
            print(
                f"\nSQL of one request on {f['database']} ({f['query_count']} queries; "
                f"in-process mean {f['inprocess_mean_ms']:.1f} ms, max {f['inprocess_max_ms']:.1f} ms):"
            )
            for sql, plan in f["plans"]:
                print(f"\n  {sql}\n{plan}")
            print()
            print(f["profile"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--high-concurrency", type=int, default=32, help="the own-configuration run")
    parser.add_argument("--users", type=int, default=32, help="signed-in users the requests rotate over")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=None, help="server threads (default: zhili up's own)")
    parser.add_argument("--workers", type=int, default=None, help="server workers (default: zhili up's own)")
    parser.add_argument("--demo", action="store_true", help="fill with zhili.demo's build_demo (if present)")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    parser.add_argument("--explain", action="store_true", help="print the SQL and plans even on target")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")

    if args.database == "both":
        databases = ["sqlite"] + (["postgresql"] if pg_reachable() else [])
        if len(databases) == 1:
            print("PostgreSQL at 127.0.0.1:5432 is not reachable: SQLite only.")
        collected = []
        for database in databases:
            child = [sys.executable, __file__, *args_without_database(argv), "--database", database, "--json"]
            proc = subprocess.Popen(child, stdout=subprocess.PIPE, text=True, encoding="utf-8")
            for line in proc.stdout:
                if line.startswith(RESULT_PREFIX):
                    collected.append(json.loads(line[len(RESULT_PREFIX) :]))
                else:
                    print(line, end="", flush=True)
            if proc.wait():
                return proc.returncode
        print("\n===== summary of all databases =====")
        report(collected, args)
        return 0

    if args.database == "postgresql" and not pg_reachable():
        print("PostgreSQL at 127.0.0.1:5432 is not reachable.")
        return 1
    figures = run(args)
    report([figures], args)
    if args.json:
        print(RESULT_PREFIX + json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
