"""Benchmark: bulk import of residents (CSV and XLSX) by Zhili vs django-import-export.

Generates N residents with valid, unique GB 11643 ID numbers, imports them with Zhili's
importer (``zhili.core.importexport.import_file``) from CSV and from XLSX, then imports the
same CSV with django-import-export's default ``ModelResource`` (and once more with
``clean_model_instances = True`` so the peer validates ID numbers as Zhili does). Prints
rows/s, ratios, and the memory peak of importing N/2 vs N rows (streaming: it must not grow
with the row count).

    python bench/import_residents.py [--rows 100000] [--database sqlite|postgresql|both]

Targets: Zhili CSV >= 20,000 rows/s and >= 3x the peer. Needs ``pip install -e ".[bench]"``.
"""

import argparse
import cProfile
import csv
import gc
import io
import json
import pstats
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BenchEnvironment,
    args_without_database,
    fmt,
    loadavg,
    machine_line,
    pg_reachable,
    print_table,
    proc_status,
    reset_peak_rss,
    resident_records,
    setup_django,
)

COLUMNS = ["id_number", "name", "phone", "grid", "residence_type", "political_status", "status", "address"]
GRID_CODE = "BENCH-GRID-001"
TARGET_ROWS_PER_S = 20_000
TARGET_RATIO = 3.0
RESULT_PREFIX = "BENCH-RESULT "
#: How ``zhili.core.bulk.write_rows`` sends rows, per database vendor.
WRITE_KIND = {"sqlite": "executemany INSERT", "postgresql": "COPY"}


def resident_rows(count: int):
    """Yield ``count`` rows of COLUMNS (all in the benchmark's one grid)."""
    for number, _birth, name, phone, residence, political, status, address in resident_records(count):
        yield [number, name, phone, GRID_CODE, residence, political, status, address]


def write_csv(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(resident_rows(count))


def write_xlsx(path: Path, count: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("residents")
    sheet.append(COLUMNS)
    for row in resident_rows(count):
        sheet.append(row)
    workbook.save(path)


def check_unique_ids(path: Path, count: int) -> None:
    from zhili.core.identifiers import validate_resident_id

    seen = set()
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            seen.add(row[0])
    if len(seen) != count:
        raise SystemExit(f"generator bug: {count - len(seen)} duplicate ID numbers")
    for number in list(seen)[:1000]:
        validate_resident_id(number)


# ---------------------------------------------------------------- database


def prepare_database():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from zhili.places.models import Division, Grid

    call_command("migrate", interactive=False, verbosity=0)
    division = Division(code="330110001001", name="基准村", level="village")
    division.save()
    Grid(code=GRID_CODE, name="基准网格", division=division).save()
    return get_user_model().objects.create_superuser("bench", password="Bench-pass-2024!")


def delete_residents() -> None:
    from django.db import connection, transaction

    from zhili.core.models import ChangeRecord
    from zhili.people.models import Resident

    quote = connection.ops.quote_name
    tables = [Resident.tags.through._meta.db_table, Resident._meta.db_table, ChangeRecord._meta.db_table]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (quoted identifier)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {quote(Resident._meta.db_table)}")


def resident_count() -> int:
    from zhili.people.models import Resident

    return Resident.objects.count()


# ---------------------------------------------------------------- runs


def zhili_import(path: Path, user):
    from django.core.files import File

    from zhili.core.dbstats import wait_for_statistics
    from zhili.core.importexport import import_file
    from zhili.core.registry import registry
    from zhili.people.models import Resident

    entry = registry.get(Resident)
    # Encryption is deterministic and memoised; a real import meets values it has not seen, so
    # every run here starts with empty caches, or the second and later runs would be too fast.
    reset_crypto_caches()
    with open(path, "rb") as fh:
        upload = File(fh, name=path.name)
        start, cpu = time.perf_counter(), time.process_time()
        result = import_file(entry, upload, path.name, user)
        elapsed = time.perf_counter() - start
        LAST_CPU[0] = time.process_time() - cpu
    # On PostgreSQL the import's ANALYZE runs in the background after it answers; let it end
    # before the next run starts, so that runs do not share the server.
    wait_for_statistics()
    if not result.ok:
        raise SystemExit(f"Zhili import of {path.name} failed: {result.as_dict()['errors'][:5]}")
    return result.created, elapsed


LAST_CPU = [0.0]


def reset_crypto_caches() -> None:
    from zhili.core import crypto

    crypto.reset_keyring()


def peer_resources():
    from import_export import fields, resources, widgets

    from zhili.people.models import Resident
    from zhili.places.models import Grid

    class PeerResidentResource(resources.ModelResource):
        grid = fields.Field(
            attribute="grid", column_name="grid", widget=widgets.ForeignKeyWidget(Grid, field="code")
        )

        class Meta:
            model = Resident
            # "id" is listed so that the default import_id_fields (["id"]) is valid; the file
            # has no id column, so every row is a new instance (no lookup query).
            fields = ("id", *COLUMNS)

    class PeerValidatingResidentResource(PeerResidentResource):
        class Meta(PeerResidentResource.Meta):
            clean_model_instances = True

    return PeerResidentResource, PeerValidatingResidentResource


def peer_import(path: Path, resource_class, limit: int | None):
    import tablib

    start = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    if limit is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[: limit + 1])
    dataset = tablib.Dataset().load(text, format="csv")
    loaded = time.perf_counter() - start
    result = resource_class().import_data(dataset, dry_run=False, raise_errors=False)
    elapsed = time.perf_counter() - start
    if result.has_errors() or result.has_validation_errors():
        first = result.invalid_rows[:1] or result.row_errors()[:1]
        raise SystemExit(f"peer import failed: {first}")
    created = result.totals.get("new", 0)
    return created, elapsed, loaded


def memory_run(path: Path, user) -> dict:
    """Import ``path`` under tracemalloc; return the Python heap peak and the RSS high-water mark."""
    delete_residents()
    gc.collect()
    can_reset = reset_peak_rss()
    rss_before = proc_status()["VmRSS"]
    tracemalloc.start()
    tracemalloc.reset_peak()
    created, elapsed = zhili_import(path, user)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    status = proc_status()
    return {
        "rows": created,
        "seconds": elapsed,
        "tracemalloc_peak_mb": peak / 2**20,
        "hwm_delta_mb": max(0, status["VmHWM"] - rss_before) / 1024 if can_reset else None,
        "hwm_mb": status["VmHWM"] / 1024 if can_reset else None,
        "rss_after_mb": status["VmRSS"] / 1024,
    }


def phase_breakdown(paths: list[Path], user) -> str:
    """Import again with wall-clock timers around the importer's stages; return a table as text."""
    from django.db import connection

    from zhili.core import bulk, importexport

    totals: dict[str, float] = {}

    def timed(owner, name, key):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[key] = totals.get(key, 0.0) + time.perf_counter() - start

        setattr(owner, name, wrapper)
        return original

    out = io.StringIO()
    for path in paths:
        totals.clear()
        start = time.perf_counter()
        with open(path, "rb") as fh:
            _headers, rows = importexport.read_table(fh, path.name)
            count = sum(1 for _row in rows)
        read_only = time.perf_counter() - start
        patched = [
            (importexport.Importer, name, timed(importexport.Importer, name, f"Importer.{name}"))
            for name in ("_convert", "_resolve", "_build", "_insert", "_within_scope", "_set_m2m")
        ]
        patched.append(
            (
                importexport,
                "refresh_statistics_soon",
                timed(
                    importexport,
                    "refresh_statistics_soon",
                    "refresh_statistics_soon (PostgreSQL: only queues ANALYZE)",
                ),
            )
        )
        patched.append(
            (
                importexport,
                "record_bulk_create",
                timed(importexport, "record_bulk_create", "record_bulk_create (change records)"),
            )
        )
        original_write = bulk.write_rows

        def write_rows(conn, model, fields, rows, original_write=original_write):
            start = time.perf_counter()
            try:
                return original_write(conn, model, fields, rows)
            finally:
                key = f"  of which {WRITE_KIND[conn.vendor]} {model._meta.db_table}"
                totals[key] = totals.get(key, 0.0) + time.perf_counter() - start

        bulk.write_rows = write_rows
        # The import's one COMMIT runs the foreign-key checks PostgreSQL deferred for every row.
        delete_residents()
        connection.commit = timed_commit = lambda original=connection.commit: _timed(original, totals)
        try:
            created, elapsed = zhili_import(path, user)
        finally:
            bulk.write_rows = original_write
            if connection.commit is timed_commit:
                del connection.commit
            for owner, name, original in patched:
                setattr(owner, name, original)
        out.write(
            f"\nStages of Zhili's import of {path.name} ({created:,} rows, {elapsed:.2f} s wall, "
            f"{LAST_CPU[0]:.2f} s CPU of this process)\n"
        )
        out.write(
            f"  {'reading the file alone (read_table, all rows)':50s} {read_only:7.2f} s {read_only / count * 1e6:7.1f} us/row\n"
        )
        order = [
            "Importer._convert",
            "Importer._resolve",
            "Importer._build",
            "Importer._insert",
            f"  of which {WRITE_KIND[connection.vendor]} people_resident",
            "record_bulk_create (change records)",
            f"  of which {WRITE_KIND[connection.vendor]} core_changerecord",
            "Importer._within_scope",
            "Importer._set_m2m",
            "COMMIT",
            "refresh_statistics_soon (PostgreSQL: only queues ANALYZE)",
        ]
        top_level = sum(value for key, value in totals.items() if not key.startswith(" "))
        totals["rest (reading, row loop, commit, audit)"] = elapsed - top_level
        order.append("rest (reading, row loop, commit, audit)")
        for key in order + [k for k in totals if k not in order]:
            value = totals.get(key, 0.0)
            out.write(
                f"  {key:50s} {value:7.2f} s {value / created * 1e6:7.1f} us/row {value / elapsed * 100:5.1f}%\n"
            )
    return out.getvalue()


def _timed(commit, totals) -> None:
    start = time.perf_counter()
    try:
        commit()
    finally:
        totals["COMMIT"] = totals.get("COMMIT", 0.0) + time.perf_counter() - start


def profile_import(path: Path, user, top: int = 45) -> str:
    delete_residents()
    profiler = cProfile.Profile()
    profiler.enable()
    created, elapsed = zhili_import(path, user)
    profiler.disable()
    out = io.StringIO()
    out.write(f"cProfile of Zhili's CSV import ({created:,} rows, {elapsed:.1f} s under the profiler)\n")
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# ---------------------------------------------------------------- main


def run(args) -> dict:
    print(f"== import_residents: {args.rows:,} rows on {args.database}; {machine_line()}", flush=True)
    with BenchEnvironment("import", args.database, keep=args.keep) as env:
        setup_django()
        from django.conf import settings

        work = Path(env.data_dir) / "files"
        work.mkdir()
        csv_path, xlsx_path = work / "residents.csv", work / "residents.xlsx"
        half_path = work / "residents-half.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, args.rows)
        check_unique_ids(csv_path, args.rows)
        write_xlsx(xlsx_path, args.rows)
        if not args.skip_memory:
            write_csv(half_path, args.rows // 2)
        print(
            f"generated files in {time.perf_counter() - t0:.1f} s: CSV {csv_path.stat().st_size / 2**20:.1f} MB, "
            f"XLSX {xlsx_path.stat().st_size / 2**20:.1f} MB",
            flush=True,
        )
        user = prepare_database()
        if not args.no_freeze:
            # As in the server: ``zhili up`` collects and freezes the loaded application's heap
            # before its workers fork (zhili/server.py), and imports run in those workers. Without
            # this, every full collection during the import also walks Django's import-time
            # objects; that costs about a fifth of the import here (``--no-freeze`` shows it).
            gc.collect()
            gc.freeze()
        figures: dict = {
            "database": args.database,
            "heap": "unfrozen (--no-freeze)" if args.no_freeze else "frozen after start-up, as in zhili up",
            "rows": args.rows,
            "engine": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "load_before": loadavg(),
        }

        # The CSV import is the target: its figure is the median of ``--repeat`` runs, because
        # one run on a shared 2-core machine varies by a tenth and more from the next.
        csv_runs = []
        for attempt in range(args.repeat):
            if attempt:
                delete_residents()
            created, elapsed = zhili_import(csv_path, user)
            assert created == args.rows == resident_count(), (created, resident_count())
            csv_runs.append((elapsed, LAST_CPU[0]))
            print(
                f"Zhili CSV:  {created:,} rows in {elapsed:.2f} s = {fmt(created / elapsed)} rows/s "
                f"({LAST_CPU[0]:.2f} s CPU in this process)",
                flush=True,
            )
        csv_runs.sort()
        elapsed, cpu = csv_runs[len(csv_runs) // 2]
        figures["zhili_csv"] = args.rows / elapsed
        figures["zhili_csv_cpu"] = args.rows / cpu
        figures["zhili_csv_runs"] = [args.rows / run_elapsed for run_elapsed, _cpu in csv_runs]

        delete_residents()
        created, elapsed = zhili_import(xlsx_path, user)
        assert created == args.rows == resident_count()
        figures["zhili_xlsx"] = created / elapsed
        figures["zhili_xlsx_cpu"] = created / LAST_CPU[0]
        print(
            f"Zhili XLSX: {created:,} rows in {elapsed:.2f} s = {fmt(created / elapsed)} rows/s "
            f"({LAST_CPU[0]:.2f} s CPU in this process)",
            flush=True,
        )

        if not args.skip_peer:
            default_resource, validating_resource = peer_resources()
            limit = args.peer_rows if args.peer_rows and args.peer_rows < args.rows else None
            for key, resource in (
                ("peer_default", default_resource),
                ("peer_validating", validating_resource),
            ):
                delete_residents()
                created, elapsed, loaded = peer_import(csv_path, resource, limit)
                assert created == resident_count() == (limit or args.rows), (created, resident_count())
                figures[key] = created / elapsed
                figures[f"{key}_rows"] = created
                print(
                    f"peer {key.split('_')[1]}: {created:,} rows in {elapsed:.2f} s "
                    f"(tablib load {loaded:.2f} s) = {fmt(created / elapsed)} rows/s",
                    flush=True,
                )

        if not args.skip_memory:
            figures["memory"] = [memory_run(half_path, user), memory_run(csv_path, user)]
        figures["load_after"] = loadavg()

        missed = figures["zhili_csv"] < TARGET_ROWS_PER_S or (
            "peer_default" in figures and figures["zhili_csv"] < TARGET_RATIO * figures["peer_default"]
        )
        if args.profile or missed:
            figures["profile"] = (
                phase_breakdown([csv_path, xlsx_path], user) + "\n" + profile_import(csv_path, user)
            )
        delete_residents()
        from django.db import connections

        connections.close_all()
    return figures


def report(all_figures: list[dict]) -> None:
    for figures in all_figures:
        runs = figures["zhili_csv_runs"]
        csv_label = (
            f"Zhili CSV (median of {len(runs)} runs: {fmt(min(runs))} to {fmt(max(runs))})"
            if len(runs) > 1
            else "Zhili CSV"
        )
        rows = [
            [csv_label, fmt(figures["zhili_csv"]), "1.00", fmt(figures["zhili_csv_cpu"])],
            [
                "Zhili XLSX",
                fmt(figures["zhili_xlsx"]),
                f"{figures['zhili_xlsx'] / figures['zhili_csv']:.2f}",
                fmt(figures["zhili_xlsx_cpu"]),
            ],
        ]
        for key, label in (
            ("peer_default", "django-import-export (default: no full_clean, ID not validated)"),
            ("peer_validating", "django-import-export (clean_model_instances = True)"),
        ):
            if key in figures:
                rows.append(
                    [
                        f"{label} [{figures[f'{key}_rows']:,} rows]",
                        fmt(figures[key]),
                        f"{figures[key] / figures['zhili_csv']:.3f}",
                        "",
                    ]
                )
        print_table(
            f"Import of {figures['rows']:,} residents on {figures['engine']}, heap {figures['heap']} "
            f"(load average before {figures['load_before']}, after {figures['load_after']})",
            ["importer", "rows/s", "vs Zhili CSV", "rows per CPU-second (client process)"],
            rows,
        )
        checks = [
            [
                f"Zhili CSV >= {TARGET_ROWS_PER_S:,} rows/s",
                fmt(figures["zhili_csv"]),
                "PASS" if figures["zhili_csv"] >= TARGET_ROWS_PER_S else "MISS",
            ]
        ]
        for key in ("peer_default", "peer_validating"):
            if key in figures:
                ratio = figures["zhili_csv"] / figures[key]
                checks.append(
                    [
                        f"Zhili CSV / {key.replace('_', ' ')} >= {TARGET_RATIO:.0f}x",
                        f"{ratio:.1f}x",
                        "PASS" if ratio >= TARGET_RATIO else "MISS",
                    ]
                )
        if "memory" in figures:
            small, large = figures["memory"]
            growth = large["tracemalloc_peak_mb"] / max(small["tracemalloc_peak_mb"], 1e-9)
            for item in (small, large):
                hwm = (
                    "n/a"
                    if item["hwm_delta_mb"] is None
                    else f"+{item['hwm_delta_mb']:.1f} MB (peak {item['hwm_mb']:.0f} MB)"
                )
                checks.append(
                    [
                        f"memory importing {item['rows']:,} rows: tracemalloc peak / peak RSS over RSS before",
                        f"{item['tracemalloc_peak_mb']:.1f} MB / {hwm}",
                        "",
                    ]
                )
            checks.append(
                [
                    "peak(N) / peak(N/2) (streaming: ~1.0, must not be ~2)",
                    f"{growth:.2f}",
                    "PASS" if growth < 1.5 else "MISS",
                ]
            )
        print_table(f"Targets ({figures['engine']})", ["check", "value", "result"], checks)
        if "profile" in figures:
            print()
            print(figures["profile"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--repeat", type=int, default=3, help="CSV imports to run; the figure is their median (default 3)"
    )
    parser.add_argument(
        "--peer-rows", type=int, default=None, help="import only this many rows with the peer (default: all)"
    )
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of Zhili's CSV import")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="do not freeze the start-up heap as zhili up does (imports then pay for full collections of it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 2:
        parser.error("--rows must be at least 2")

    if args.database == "both":
        databases = ["sqlite"] + (["postgresql"] if pg_reachable() else [])
        if len(databases) == 1:
            print("PostgreSQL at 127.0.0.1:5432 is not reachable: SQLite only.")
        collected = []
        for database in databases:
            child = [sys.executable, __file__, *args_without_database(argv), "--database", database, "--json"]
            proc = subprocess.run(child, stdout=subprocess.PIPE, text=True, encoding="utf-8", check=False)
            for line in proc.stdout.splitlines():
                if line.startswith(RESULT_PREFIX):
                    collected.append(json.loads(line[len(RESULT_PREFIX) :]))
                else:
                    print(line)
            if proc.returncode:
                return proc.returncode
        report(collected)
        return 0

    if args.database == "postgresql" and not pg_reachable():
        print("PostgreSQL at 127.0.0.1:5432 is not reachable.")
        return 1
    figures = run(args)
    report([figures])
    if args.json:
        print(RESULT_PREFIX + json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
