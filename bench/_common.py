"""Helpers shared by the benchmark scripts in this folder (they are scripts, not tests).

Everything here talks to 127.0.0.1 only: the PostgreSQL server of the machine and the
``zhili up`` servers the scripts start themselves.
"""

import contextlib
import datetime
import http.client
import itertools
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


# ---------------------------------------------------------------- machine


def loadavg() -> str:
    """Return the 1/5/15-minute load averages, as ``uptime`` prints them."""
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def reference_ms(repeat: int = 5) -> float:
    """Time a fixed pure-Python workload (best of ``repeat``, in ms): the machine's speed.

    Machines of one class differ by 2x and more in single-core speed, so absolute figures only
    compare within a run; a figure divided by this reference compares across machines.
    """
    import time

    def work():
        table = {}
        for i in range(200_000):
            text = str(i)
            table[text] = len(text) + (i & 7)
        return sum(table.values())

    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def machine_line() -> str:
    """One line for a benchmark's header: load and the speed reference."""
    return f"load average {loadavg()}; Python speed reference {reference_ms():.1f} ms (lower is faster)"


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """Return the kB figures of /proc/<pid>/status (VmRSS, VmHWM, …)."""
    values = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                values[name] = int(parts[0])
    return values


def reset_peak_rss() -> bool:
    """Reset VmHWM of this process (Linux ``clear_refs`` 5); return False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    result, todo = [], [pid]
    while todo:
        current = todo.pop()
        result.append(current)
        todo.extend(children.get(current, []))
    return result


# ---------------------------------------------------------------- databases


def args_without_database(argv) -> list[str]:
    """Return the command-line arguments without ``--database`` (to re-run a script per database)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out, skip = [], False
    for item in args:
        if skip:
            skip = False
        elif item == "--database":
            skip = True
        elif not item.startswith("--database="):
            out.append(item)
    return out


def pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def pg_database_url(name: str) -> str:
    return f"{PG_SERVER}/zhili_bench_{name}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def create_pg_database(name: str) -> str:
    """(Re)create the database ``zhili_bench_<name>`` and return its URL."""
    drop_pg_database(name)
    _pg_admin(f'CREATE DATABASE "zhili_bench_{name}"')
    return pg_database_url(name)


def drop_pg_database(name: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "zhili_bench_{name}" WITH (FORCE)')


class BenchEnvironment:
    """A temporary data folder (and PostgreSQL database) set in the environment before Django loads.

    Use as a context manager; the folder and database are removed on exit unless ``keep``.
    """

    def __init__(self, name: str, database: str = "sqlite", keep: bool = False):
        self.name = name
        self.database = database
        self.keep = keep
        self.data_dir = tempfile.mkdtemp(prefix=f"zhili-bench-{name}-")
        self.database_url = None
        if database == "postgresql":
            self.database_url = create_pg_database(name)
        os.environ["ZHILI_DATA"] = self.data_dir
        if self.database_url:
            os.environ["DATABASE_URL"] = self.database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        os.environ["DJANGO_SETTINGS_MODULE"] = "zhili.settings"

    def server_env(self, **extra) -> dict[str, str]:
        env = dict(os.environ)
        env["ZHILI_DATA"] = self.data_dir
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        else:
            env.pop("DATABASE_URL", None)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.keep:
            print(f"(kept data folder {self.data_dir})")
            return
        if self.database_url:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            try:
                drop_pg_database(self.name)
            except Exception as error:  # report, do not hide the benchmark's own result
                print(f"warning: could not drop database zhili_bench_{self.name}: {error}")
        shutil.rmtree(self.data_dir, ignore_errors=True)


def setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
    django.setup()


# ---------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class ZhiliServer:
    """``python -m zhili.cli up`` in a subprocess on 127.0.0.1; stopped with SIGTERM by ``stop``."""

    READY = "is running at"

    def __init__(self, env: dict[str, str], port: int, extra_args: tuple[str, ...] = (), echo: bool = False):
        self.port = port
        self.echo = echo
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zhili.cli", "up", "--host", HOST, "--port", str(port), *extra_args],
            cwd=env.get("ZHILI_DATA", str(ROOT)),
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if self.echo:
                print(f"  [server] {line.rstrip()}", flush=True)
            if self.READY in line:
                self._ready.set()

    def wait_ready(self, timeout: float) -> float:
        """Wait until the server prints that it is running; return the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.2):
                return time.monotonic() - start
            if self.process.poll() is not None:
                break
        self.stop()
        tail = "\n".join(self.lines[-30:])
        raise RuntimeError(f"zhili up did not become ready in {timeout:.0f} s; its output:\n{tail}")

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._reader.join(5)


# ---------------------------------------------------------------- HTTP with cookies


class Browser:
    """A tiny cookie-keeping HTTP/1.1 client for 127.0.0.1 (keep-alive, no redirects followed)."""

    def __init__(self, port: int, timeout: float = 120):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                if attempt:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                if val in ("", '""'):
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val.strip()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict):
        body = urllib.parse.urlencode(fields).encode()
        return self.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{HOST}:{self.port}{path}",
            },
        )

    def sign_in(self, username: str, password: str) -> str:
        """Sign in through /accounts/login/ and return the session id."""
        status, _headers, _body = self.get("/accounts/login/")
        if status != 200 or "csrftoken" not in self.cookies:
            raise RuntimeError(f"GET /accounts/login/ answered {status} without a csrftoken cookie")
        status, headers, body = self.post_form(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": self.cookies["csrftoken"]},
        )
        if status != 302 or "sessionid" not in self.cookies:
            snippet = re.sub(r"\s+", " ", body.decode("utf-8", "replace"))[:300]
            raise RuntimeError(f"sign-in failed: HTTP {status}: {snippet}")
        return self.cookies["sessionid"]

    def close(self):
        self.conn.close()


# ---------------------------------------------------------------- residents


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国文辉鹏飞燕红梅晓东海波宇浩然子涵欣怡"
REGIONS = ("330106", "330110", "330104", "330105", "330108", "330109", "330122", "330183")
VILLAGES = ("良渚村", "新港村", "大陆村", "勾庄社区", "安溪村", "石桥社区", "东塘村", "荀山社区")
RESIDENCE = (("registered", 80), ("permanent", 8), ("floating", 12))
POLITICAL = (("masses", 85), ("party", 8), ("league", 5), ("probationary", 1), ("other", 1))
STATUS = (("active", 95), ("moved_out", 4), ("deceased", 1))
BIRTH_START = datetime.date(1940, 1, 1)
BIRTH_DAYS = 25_000  # up to 2008: every birth date is in the past


def _chooser(rng: random.Random, table):
    values, weights = zip(*table, strict=True)
    cumulative = list(itertools.accumulate(weights))

    def choose() -> str:
        return rng.choices(values, cum_weights=cumulative)[0]

    return choose


def id_number_of(i: int) -> tuple[str, datetime.date]:
    """Return the i-th benchmark ID number (valid GB 11643, unique for i < 25,000,000) and its birth date.

    The birth date is a bijection of ``i % 25000`` (7919 is prime to 25000); for a given date
    the sequence number is an injective function of ``i // 25000`` (7 is prime to 1000).
    """
    from zhili.core.identifiers import id_check_char

    birth = BIRTH_START + datetime.timedelta(days=(i * 7919) % BIRTH_DAYS)
    sequence = (i // BIRTH_DAYS * 7 + 3 * (i % BIRTH_DAYS)) % 1000
    first17 = f"{REGIONS[i % len(REGIONS)]}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17), birth


def resident_records(count: int, seed: int = 11643):
    """Yield ``count`` tuples (id_number, birth_date, name, phone, residence_type, political_status,
    status, address)."""
    if count > BIRTH_DAYS * 1000:
        raise SystemExit(f"at most {BIRTH_DAYS * 1000:,} unique ID numbers with this scheme")
    rng = random.Random(seed)
    residence, political, status = (_chooser(rng, t) for t in (RESIDENCE, POLITICAL, STATUS))
    for i in range(count):
        number, birth = id_number_of(i)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        address = f"浙江省杭州市余杭区良渚街道{rng.choice(VILLAGES)}{rng.randint(1, 300)}号"
        yield number, birth, name, phone, residence(), political(), status(), address


# ---------------------------------------------------------------- output


def print_table(title: str, headers: list[str], rows: list[list]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(_pad(c, w, i) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    print()
    print(title)
    print("-" * len(line(cells[0])))
    print(line(cells[0]))
    print("-" * len(line(cells[0])))
    for row in cells[1:]:
        print(line(row))
    print("-" * len(line(cells[0])), flush=True)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, index: int) -> str:
    gap = " " * (width - _width(text))
    return text + gap if index == 0 else gap + text


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"
