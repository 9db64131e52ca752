"""A/B comparison of import variants: alternates them over repeated imports in one process.

The speed of this project's shared machines drifts by a factor of 2 within minutes, so two
benchmark runs taken one after the other do not compare. This script imports the same CSV file
with each variant in turn, round after round, and prints each variant's best and median.

A variant is a Python file that defines ``apply()`` and ``undo()``: it monkeypatches the code
under test and restores it (``base`` names the code as it is). For example, a variant that runs
the import's key checks immediately instead of at ``COMMIT``::

    from zhili.core import bulk
    original = bulk.write_rows
    def write_rows(conn, model, fields, rows):
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        original(conn, model, fields, rows)
    def apply(): bulk.write_rows = write_rows
    def undo(): bulk.write_rows = original

    python bench/import_ab.py --database postgresql --rounds 4 base immediate.py
"""

import argparse
import gc
import importlib.util
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_residents  # noqa: E402
from _common import BenchEnvironment, machine_line, setup_django  # noqa: E402


def load_variant(spec: str):
    if spec == "base":
        return "base", (lambda: None), (lambda: None)
    path = Path(spec)
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return path.stem, module.apply, module.undo


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+", help="'base' or files defining apply() and undo()")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    print(f"== import_ab: {args.rows:,} rows on {args.database}; {machine_line()}", flush=True)
    with BenchEnvironment("import_ab", args.database) as env:
        setup_django()
        path = Path(env.data_dir) / "residents.csv"
        import_residents.write_csv(path, args.rows)
        user = import_residents.prepare_database()
        gc.collect()
        gc.freeze()  # as zhili up does before its workers fork
        variants = [load_variant(spec) for spec in args.variants]
        times = {name: [] for name, _apply, _undo in variants}
        cpu = {name: [] for name, _apply, _undo in variants}
        import_residents.zhili_import(path, user)  # warm-up, not counted
        import_residents.delete_residents()
        for round_number in range(args.rounds):
            for name, apply, undo in variants:
                apply()
                try:
                    created, elapsed = import_residents.zhili_import(path, user)
                finally:
                    undo()
                import_residents.delete_residents()
                assert created == args.rows, (name, created)
                times[name].append(elapsed)
                cpu[name].append(import_residents.LAST_CPU[0])
                print(
                    f"round {round_number + 1} {name}: {elapsed:.2f} s ({args.rows / elapsed:,.0f} rows/s), "
                    f"client CPU {import_residents.LAST_CPU[0]:.2f} s",
                    flush=True,
                )
        from django.db import connections

        connections.close_all()
    print()
    for name in times:
        print(
            f"{name}: best {min(times[name]):.2f} s, median {statistics.median(times[name]):.2f} s "
            f"({args.rows / statistics.median(times[name]):,.0f} rows/s), "
            f"client CPU median {statistics.median(cpu[name]):.2f} s"
        )
    print(machine_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
