"""``zhili token create USERNAME [--scopes read,write] [--expires 90d|2027-06-30] [--name NAME]``.

Prints the new API key once (for automation: systems and the mini-program). Also ``token list``
and ``token revoke ID``. Creation and revocation are audited like the same actions in the UI.
"""

import re
from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhili.accounts.models import ApiToken, User
from zhili.accounts.tokens import DEFAULT_SCOPES, create_token, revoke_token, valid_scope


def parse_expiry(value: str | None):
    """``90d``, ``12h`` or an ISO date/time; None or ``never`` for no expiry."""
    if not value or value == "never":
        return None
    match = re.fullmatch(r"(\d+)([dh])", value)
    if match:
        amount = int(match.group(1))
        return timezone.now() + (timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--expires: expected e.g. 90d, 12h or 2027-06-30, not {value!r}")
    if parsed.hour == parsed.minute == 0 and "T" not in value:
        parsed = datetime.combine(parsed.date(), time.max)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed <= timezone.now():
        raise CommandError("--expires lies in the past")
    return parsed


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print its key once")
        create.add_argument("username")
        create.add_argument(
            "--scopes", default=",".join(DEFAULT_SCOPES), help="comma-separated, e.g. read,people:write"
        )
        create.add_argument(
            "--expires", default="365d", help="90d, 12h, an ISO date, or never (default 365d)"
        )
        create.add_argument("--name", default="cli")
        listing = sub.add_parser("list", help="list tokens (never their keys)")
        listing.add_argument("username", nargs="?")
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("id", type=int)

    def handle(self, *args, **options):
        action = options["action"]
        if action == "create":
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['username']!r}")
            scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
            bad = [s for s in scopes if not valid_scope(s)]
            if bad or not scopes:
                raise CommandError(f"unknown scopes: {', '.join(bad) or '(none)'}")
            token, raw = create_token(
                user, options["name"], scopes=scopes, expires_at=parse_expiry(options["expires"])
            )
            self.stderr.write(
                f"Token {token.pk} for {user.username}: scopes {','.join(scopes)}, "
                f"expires {token.expires_at.isoformat() if token.expires_at else 'never'}. The key is shown once:"
            )
            self.stdout.write(raw)
        elif action == "list":
            tokens = ApiToken.objects.select_related("user")
            if options.get("username"):
                tokens = tokens.filter(user__username=options["username"])
            for t in tokens:
                state = "revoked" if t.revoked_at else ("valid" if t.is_valid else "expired")
                expires = t.expires_at.date().isoformat() if t.expires_at else "never"
                self.stdout.write(
                    f"{t.pk}\t{t.user.username}\t{t.name}\t{t.prefix}…\t{','.join(t.scopes)}\t{expires}\t{state}"
                )
        else:
            token = ApiToken.objects.filter(pk=options["id"]).first()
            if token is None:
                raise CommandError(f"no token {options['id']}")
            if token.revoked_at is None:
                revoke_token(token)
            self.stdout.write(f"Token {token.pk} revoked.")
