"""Cost of the authentication layer per request, measured in one run against itself (issue 3).

Compares the same session-authenticated requests with and without Zhili's three per-request
security middlewares (tracked-session/timeout check, password/2FA gate, CSP header), and times a
full password sign-in (Argon2id, lockout and IP bookkeeping) and a TOTP check. In-process Django
test client on a fresh SQLite database: it isolates the middleware cost from the HTTP server.

    PYTHONPATH=$PWD python bench/auth_overhead.py [--requests 400]

The machine has 2 cores shared with other work: figures are noisy; rounds alternate to share it.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ["ZHILI_DATA"] = tempfile.mkdtemp(prefix="zhili-bench-auth-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
sys.path.insert(0, os.getcwd())

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SECURITY = (
    "zhili.accounts.middleware.SessionSecurityMiddleware",
    "zhili.accounts.middleware.PasswordChangeRequiredMiddleware",
    "zhili.accounts.middleware.ContentSecurityPolicyMiddleware",
)


def timed(client, url, n):
    start = time.perf_counter()
    for _ in range(n):
        response = client.get(url)
        assert response.status_code == 200, response.status_code
    return (time.perf_counter() - start) / n * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from zhili.accounts.models import User

    user = User.objects.create_superuser("bench", password="Bench-Pass-2026!")
    url = "/api/orgs/departments/"
    with_mw, without_mw = [], []
    for _round in range(5):
        client = Client()
        client.force_login(user)
        client.get(url)
        with_mw.append(timed(client, url, args.requests))
        with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in SECURITY]):
            bare = Client()
            bare.force_login(user)
            bare.get(url)
            without_mw.append(timed(bare, url, args.requests))
    a, b = statistics.median(with_mw), statistics.median(without_mw)
    print(f"GET {url} (session auth), median of 5 rounds × {args.requests} requests")
    print(f"  with security middlewares:    {a:.3f} ms/request")
    print(f"  without them:                 {b:.3f} ms/request")
    print(f"  overhead:                     {a - b:+.3f} ms/request ({(a / b - 1) * 100:+.1f} %)")

    from zhili.accounts.tests.helpers import post_login

    times = []
    for _ in range(10):
        client = Client()
        start = time.perf_counter()
        response = post_login(client, "bench", "Bench-Pass-2026!")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 302
    print(
        f"password sign-in (captcha picture + Argon2id + bookkeeping): median {statistics.median(times):.1f} ms"
    )

    import pyotp

    from zhili.accounts import twofactor

    device = twofactor.new_totp_device(user)
    totp = pyotp.TOTP(device.secret)
    start = time.perf_counter()
    n = 2000
    for _ in range(n):
        device.last_used_step = 0
        type(device).objects.filter(pk=device.pk).update(last_used_step=0)
        assert twofactor.verify_totp(device, totp.at(time.time()))
    print(f"TOTP verification incl. replay-guard update: {(time.perf_counter() - start) / n * 1000:.3f} ms")
    with open("/proc/loadavg") as fh:
        print(f"load average: {fh.read().split()[:3]}")


if __name__ == "__main__":
    main()
