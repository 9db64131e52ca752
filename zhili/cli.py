"""The ``zhili`` command: run, demo data, administration, and every Django management command."""

import argparse
import os
import secrets
import string
import subprocess
import sys

COMMANDS = {
    "up": "Create the data folder, migrate, load the demo town if empty, create the first admin, and serve.",
    "demo": "Build the demo town (deterministic; --scale N multiplies it).",
    "migrate": "Apply database migrations.",
    "createadmin": "Create an administrator non-interactively (--username U --password P).",
    "check": "Run Django's system checks (add --deploy for production settings).",
    "conformance": "Print the latest conformance report (requirement IDs and the tests that prove them).",
}


def _setup(data: str | None = None) -> None:
    if data:
        os.environ["ZHILI_DATA"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
    import django

    django.setup()


def generate_password(length: int = 16) -> str:
    """Return a random password with all four character classes."""
    alphabet = string.ascii_letters + string.digits + "!@#%^*-_=+"
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in value)
            and any(c.isupper() for c in value)
            and any(c.isdigit() for c in value)
            and any(not c.isalnum() for c in value)
        ):
            return value


def ensure_first_admin(stdout=sys.stdout) -> None:
    """Create the first administrator with a one-time password, printed once, if none exists."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return
    password = generate_password()
    user_model.objects.create_superuser(
        "admin", password=password, real_name="系统管理员", must_change_password=True
    )
    stdout.write(
        "\n  First administrator created.\n"
        "    username: admin\n"
        f"    password: {password}\n"
        "  This password is shown once; you must change it at first sign-in.\n\n"
    )


def cmd_up(args) -> int:
    _setup(args.data)
    from django.conf import settings
    from django.core.management import call_command

    from zhili.places.models import Division

    print(f"Zhili data folder: {settings.DATA_DIR}")
    call_command("migrate", interactive=False, verbosity=0)
    if not args.no_demo and not Division.objects.exists():
        print("Empty database: building the demo town (labelled as demo data)…", flush=True)
        # In a child process: the build's heap (~150 MB) is returned to the system when it ends,
        # instead of staying in the server process and in every worker forked from it.
        from django.db import connections

        connections.close_all()
        built = subprocess.run(
            [sys.executable, "-m", "zhili.cli", "demo", "--data", str(settings.DATA_DIR)], check=False
        )
        if built.returncode != 0:
            print("error: the demo town could not be built", file=sys.stderr)
            return built.returncode
    ensure_first_admin()
    from zhili.core.dbstats import refresh_statistics
    from zhili.server import serve

    # Fresh planner statistics before serving (SQLite has none unless asked; ~0.2 s per million rows).
    refresh_statistics()

    return serve(args.host, args.port, threads=args.threads, workers=args.workers)


def cmd_demo(args) -> int:
    _setup(args.data)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.core.management.base import CommandError

    from zhili.demo.builder import build_demo

    try:
        counts = build_demo(scale=args.scale, reset=args.reset, stdout=sys.stdout)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0 if counts else 1


def cmd_createadmin(args) -> int:
    _setup(args.data)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    user_model = get_user_model()
    if user_model.objects.filter(username=args.username).exists():
        print(f"error: user {args.username!r} already exists", file=sys.stderr)
        return 1
    candidate = user_model(username=args.username)
    try:
        validate_password(args.password, candidate)
    except ValidationError as exc:
        print("error: password refused: " + " ".join(exc.messages), file=sys.stderr)
        return 1
    user_model.objects.create_superuser(args.username, password=args.password)
    print(f"Administrator {args.username!r} created.")
    return 0


def django_command(argv: list[str], data: str | None = None) -> int:
    _setup(data)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["zhili", *argv])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhili",
        description="智理 Zhili digital governance platform. Any other subcommand is passed to Django's "
        "management commands (e.g. `zhili createsuperuser`, `zhili shell`, `zhili audit verify` to check "
        "the audit hash chain, `zhili keys rotate` to rotate the field encryption key).",
        epilog="Environment: ZHILI_DATA (data folder), DATABASE_URL, ZHILI_ALLOWED_HOSTS, TIME_ZONE. "
        "See README.",
    )
    parser.add_argument("--data", help="data folder (default ./zhili-data or $ZHILI_DATA)")
    data_help = argparse.SUPPRESS
    sub = parser.add_subparsers(dest="command", metavar="command")
    up = sub.add_parser("up", help=COMMANDS["up"], description=COMMANDS["up"])
    up.add_argument("--data", default=data_help, help="data folder (default ./zhili-data or $ZHILI_DATA)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("ZHILI_THREADS", "2")),
        help="threads per worker process; each holds at most one database connection (default 2)",
    )
    up.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("ZHILI_WORKERS", "0")) or None,
        help="worker processes (default: one per core, at most 4; 1 on Windows)",
    )
    up.add_argument("--no-demo", action="store_true", help="do not load the demo town into an empty database")
    demo = sub.add_parser("demo", help=COMMANDS["demo"], description=COMMANDS["demo"])
    demo.add_argument("--data", default=data_help, help="data folder")
    demo.add_argument("--scale", type=int, default=1, help="multiply the town (1 = 15,000 residents)")
    demo.add_argument("--reset", action="store_true", help="delete existing demo data first")
    migrate = sub.add_parser("migrate", help=COMMANDS["migrate"], description=COMMANDS["migrate"])
    migrate.add_argument("--data", default=data_help, help="data folder")
    admin = sub.add_parser("createadmin", help=COMMANDS["createadmin"], description=COMMANDS["createadmin"])
    admin.add_argument("--data", default=data_help, help="data folder")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", required=True)
    check = sub.add_parser("check", help=COMMANDS["check"], description=COMMANDS["check"])
    check.add_argument("--data", default=data_help, help="data folder")
    check.add_argument("--deploy", action="store_true")
    conf = sub.add_parser("conformance", help=COMMANDS["conformance"], description=COMMANDS["conformance"])
    conf.add_argument("--data", default=data_help, help="data folder")
    conf.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    known = set(COMMANDS) | {"-h", "--help"}
    rest = list(argv)
    if rest and rest[0].startswith("--data"):
        value = rest.pop(0)
        data = value.split("=", 1)[1] if "=" in value else (rest.pop(0) if rest else "")
        os.environ["ZHILI_DATA"] = data
        argv = rest
    if argv and argv[0] not in known:
        return django_command(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data:
        os.environ["ZHILI_DATA"] = args.data
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "up":
        return cmd_up(args)
    if args.command == "demo":
        return cmd_demo(args)
    if args.command == "createadmin":
        return cmd_createadmin(args)
    if args.command == "migrate":
        return django_command(["migrate"], args.data)
    if args.command == "check":
        return django_command(["check", *(["--deploy"] if args.deploy else [])], args.data)
    if args.command == "conformance":
        return django_command(["conformance", *(["--json"] if args.json else [])], args.data)
    return 2


if __name__ == "__main__":
    sys.exit(main())
