"""The ``zhili`` command as a new user runs it: up (serve, first admin, Ctrl-C, restart), createadmin."""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

ZHILI = [sys.executable, "-m", "zhili.cli"]


def env_for(data_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["ZHILI_DATA"] = str(data_dir)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_help_explains_every_subcommand():
    out = subprocess.run([*ZHILI, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("up", "demo", "migrate", "createadmin", "check", "conformance"):
        assert command in out


@pytest.mark.req("R-10.3-ident")
def test_createadmin_refuses_weak_passwords(tmp_path):
    env = env_for(tmp_path)
    weak = subprocess.run(
        [*ZHILI, "createadmin", "--username", "ops", "--password", "123456"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert weak.returncode == 1
    assert "password refused" in weak.stderr
    strong = subprocess.run(
        [*ZHILI, "createadmin", "--username", "ops", "--password", "Qingxi-2026-town!"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert strong.returncode == 0, strong.stderr


def ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_up(data_dir, port, *extra, sigint_ignored=False):
    process = subprocess.Popen(
        [*ZHILI, "up", "--no-demo", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env_for(data_dir),
        start_new_session=True,  # its own process group, so a failed stop can remove every process
        # What a non-interactive shell's ``zhili up &`` passes on: SIGINT ignored.
        preexec_fn=ignore_sigint if sigint_ignored else None,
    )
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "is running at" in line:
            return process, "".join(lines)
    process.kill()
    raise AssertionError("zhili up did not start:\n" + "".join(lines))


def stop(process) -> str:
    """Ctrl-C, as a user stops it; the output must close (no worker left behind) within 30 s."""
    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        processes = subprocess.run(
            ["ps", "-eo", "pid,ppid,pgid,stat,etime,args"], capture_output=True, text=True
        )
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=10)
        raise AssertionError(
            f"zhili up (pid {process.pid}) did not stop within 30 s of Ctrl-C.\n"
            f"Its output:\n{output}\nProcesses:\n{processes.stdout}"
        ) from None
    assert process.returncode == 0
    return rest


def sign_in(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    response = opener.open(
        urllib.request.Request(
            f"{base}/accounts/login/", data=data.encode(), headers={"Referer": f"{base}/accounts/login/"}
        )
    )
    return response.geturl()


@pytest.mark.req("R-10.3-rbac", "R-10.3-first")
def test_up_serves_prints_a_one_time_admin_password_stops_cleanly_and_keeps_data(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, output = start_up(tmp_path, port)
    try:
        password = re.search(r"password: (\S+)", output)[1]
        assert len(password) >= 12
        # The one-time password signs in straight to the forced password change.
        assert sign_in(base, "admin", password) == f"{base}/accounts/password/"
        assert sign_in(base, "admin", "wrong").endswith("/accounts/login/")
        static = urllib.request.urlopen(f"{base}/static/vendor/leaflet/leaflet.js")
        assert static.status == 200
    finally:
        rest = stop(process)
    assert "Stopping" in rest
    assert (tmp_path / "zhili.sqlite3").exists()
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    process, output = start_up(tmp_path, port)
    try:
        assert "password:" not in output
        assert sign_in(base, "admin", password) == f"{base}/accounts/password/"
    finally:
        stop(process)


def test_ctrl_c_stops_every_worker_even_when_started_with_sigint_ignored(tmp_path):
    """A CI script or service wrapper that starts ``zhili up &`` hands it SIGINT ignored."""
    process, output = start_up(tmp_path, free_port(), "--workers", "2", sigint_ignored=True)
    assert "2 worker(s)" in output
    assert "Stopping" in stop(process)
