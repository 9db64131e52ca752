"""Benchmark: resident memory of an idle ``zhili up`` that has served a few pages.

Starts ``python -m zhili.cli up`` on 127.0.0.1 with an EMPTY temporary data folder (so it
migrates, builds the demo town and creates the first admin with a one-time password), signs
in with that password (changing it when the platform asks), requests the dashboard, the
residents list and the buildings map layer, waits 10 s, and reads VmRSS of the server process
and its children from /proc. Without ``zhili.demo`` it says so and runs with --no-demo.

    python bench/memory_idle.py [--idle 10] [--no-demo] [--database sqlite|postgresql]

Target: < 300 MB.
"""

import argparse
import contextlib
import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BenchEnvironment,
    Browser,
    ZhiliServer,
    free_port,
    loadavg,
    pg_reachable,
    print_table,
    proc_status,
    process_tree,
)

TARGET_MB = 300
NEW_PASSWORD = "Idle-bench-2024!x"
PAGES = (
    ("dashboard", "/"),
    ("residents list", "/people/resident/"),
    ("buildings map layer", "/map/layers/places.building.geojson"),
    ("residents API", "/api/people/residents/?page_size=50"),
)


def demo_available(env: dict) -> tuple[bool, str]:
    """Return whether ``from zhili.demo.builder import build_demo`` works (checked in a subprocess)."""
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'zhili.settings'); "
        "django.setup(); from zhili.demo.builder import build_demo"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    last = (proc.stderr.strip().splitlines() or [""])[-1]
    return proc.returncode == 0, last


def change_password_if_asked(browser: Browser, old_password: str) -> bool:
    status, headers, _body = browser.get("/")
    location = headers.get("location", "")
    if status != 302 or "/accounts/password/" not in location:
        return False
    status, _headers, _body = browser.get("/accounts/password/")
    status, headers, body = browser.post_form(
        "/accounts/password/",
        {
            "old_password": old_password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
        },
    )
    if status != 302:
        snippet = re.sub(r"\s+", " ", body.decode("utf-8", "replace"))[:300]
        raise RuntimeError(f"password change refused: HTTP {status}: {snippet}")
    return True


def count_rows(data_dir: str) -> dict:
    path = Path(data_dir) / "zhili.sqlite3"
    if not path.exists():
        return {}
    counts = {}
    with sqlite3.connect(path) as conn:
        for table in ("people_resident", "places_building", "people_household", "places_grid"):
            with contextlib.suppress(sqlite3.Error):
                counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=float, default=10, help="seconds to wait before reading memory")
    parser.add_argument("--no-demo", action="store_true", help="do not build the demo town")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--startup-timeout", type=float, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = parser.parse_args(argv)
    if not 0 <= args.idle <= 600:
        parser.error("--idle must be between 0 and 600 seconds")
    if args.database == "postgresql" and not pg_reachable():
        print("PostgreSQL at 127.0.0.1:5432 is not reachable.")
        return 1

    print(f"== memory_idle on {args.database}; load average {loadavg()}", flush=True)
    with BenchEnvironment("idle", args.database, keep=args.keep) as env:
        server_env = env.server_env()
        with_demo = not args.no_demo
        note = ""
        if with_demo:
            ok, error = demo_available(server_env)
            if not ok:
                with_demo = False
                note = f"zhili.demo is not available ({error}); fell back to --no-demo"
                print(note, flush=True)
        port = free_port()
        started = time.monotonic()
        server = ZhiliServer(server_env, port, extra_args=() if with_demo else ("--no-demo",), echo=True)
        try:
            startup = server.wait_ready(args.startup_timeout)
            match = re.search(r"password: (\S+)", server.output())
            if not match:
                raise RuntimeError("zhili up printed no one-time admin password")
            password = match.group(1)
            browser = Browser(port)
            browser.sign_in("admin", password)
            changed = change_password_if_asked(browser, password)
            pages = []
            for label, path in PAGES:
                t0 = time.perf_counter()
                status, headers, body = browser.get(path)
                elapsed = (time.perf_counter() - t0) * 1000
                detail = f"{len(body) / 1024:,.0f} KB"
                if path.endswith(".geojson") and status == 200:
                    detail += f", {len(json.loads(body)['features']):,} features"
                pages.append([f"{label} {path}", status, f"{elapsed:.0f}", detail])
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status} ({headers.get('location', '')})")
            browser.close()
            rss_after_requests = sum(_rss(pid) for pid in process_tree(server.process.pid))
            time.sleep(args.idle)
            tree = process_tree(server.process.pid)
            per_process = []
            for pid in tree:
                try:
                    status = proc_status(pid)
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        command = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
                except OSError:
                    continue
                per_process.append(
                    [pid, command[:60], status.get("VmRSS", 0), status.get("VmHWM", 0), _pss(pid)]
                )
            load = loadavg()
        finally:
            server.stop()
        counts = count_rows(env.data_dir) if args.database == "sqlite" else {}

    total_kb = sum(row[2] for row in per_process)
    # Pre-forked workers share the parent's pages copy-on-write: VmRSS counts shared pages once per
    # process, PSS divides them among the sharers, so the sum of PSS is the real total.
    total_pss_kb = sum(row[4] for row in per_process)
    print_table(
        f"Pages served (server ready after {startup:.1f} s; demo {'built' if with_demo else 'not built'}; "
        f"password change {'done' if changed else 'not asked'})",
        ["page", "status", "ms", "size"],
        pages,
    )
    if counts:
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print_table(
        f"Memory of the idle server after {args.idle:g} s (load average {load})",
        ["pid", "process", "VmRSS MB", "PSS MB", "VmHWM (peak) MB"],
        [
            [pid, cmd, f"{rss / 1024:.1f}", f"{pss / 1024:.1f}", f"{hwm / 1024:.1f}"]
            for pid, cmd, rss, hwm, pss in per_process
        ],
    )
    print_table(
        "Target",
        ["check", "value", "result"],
        [
            ["RSS right after the requests", f"{rss_after_requests / 1024:.1f} MB", ""],
            ["sum of VmRSS (shared pages counted once per process)", f"{total_kb / 1024:.1f} MB", ""],
            [
                f"idle resident memory of server + workers (sum of PSS) < {TARGET_MB} MB",
                f"{total_pss_kb / 1024:.1f} MB",
                "PASS" if total_pss_kb / 1024 < TARGET_MB else "MISS",
            ],
        ],
    )
    if note:
        print(note)
    print(f"total run time {time.monotonic() - started:.0f} s")
    return 0


def _pss(pid: int) -> int:
    """Return the proportional set size of a process in kB (0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss(pid: int) -> int:
    try:
        return proc_status(pid).get("VmRSS", 0)
    except OSError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
