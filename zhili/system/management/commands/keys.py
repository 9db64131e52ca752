"""``zhili keys rotate|status|encrypt``: field encryption keys (R-10.3-crypto)."""

from django.core.management.base import BaseCommand, CommandError

from zhili.core import audit, crypto
from zhili.system import keys


class Command(BaseCommand):
    help = "Rotate the field encryption key and re-encrypt sensitive columns in batches."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate", help="add a new current key and re-encrypt every value")
        rotate.add_argument("--batch-size", type=int, default=1000)
        rotate.add_argument("--keep-old", action="store_true", help="keep retired keys in the key file")
        encrypt = sub.add_parser("encrypt", help="re-encrypt values not under the current key")
        encrypt.add_argument("--batch-size", type=int, default=1000)
        sub.add_parser("status", help="show the key ring (ids only) and the cipher")

    def handle(self, *args, action, **options):
        if action == "status":
            ring = crypto.keyring()
            self.stdout.write(f"cipher {ring.cipher}, current key {ring.current}, keys {sorted(ring.keys)}")
            return
        if action == "rotate":
            try:
                kid = keys.add_key()
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"new current key {kid}; re-encrypting…")
        count = keys.reencrypt(options["batch_size"], write=self.stdout.write)
        details = {"action": action, "reencrypted": count, "current": crypto.keyring().current}
        if action == "rotate" and not options["keep_old"]:
            details["retired"] = keys.retire_old_keys()
        audit.emit("security.keys", details=details)
        self.stdout.write(f"re-encrypted {count} values; {details}")
