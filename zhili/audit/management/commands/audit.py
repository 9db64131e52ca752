"""``zhili audit verify|checkpoint|prune|export``: the audit chain from the command line."""

import csv
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from zhili.audit import store
from zhili.audit.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the hash-chained audit log, write a checkpoint, prune with archive, or export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check the whole chain; name the first broken event")
        sub.add_parser("checkpoint", help="append the chain head to the checkpoint file")
        prune = sub.add_parser("prune", help="archive and delete events older than the retention")
        prune.add_argument("--days", type=int, default=None, help="retention in days (at least 180)")
        export = sub.add_parser("export", help="write events as CSV to stdout")
        export.add_argument("--type", default="", help="event type prefix, e.g. auth.")

    def handle(self, *args, action, **options):
        if action == "verify":
            started = time.perf_counter()
            result = store.verify()
            elapsed = time.perf_counter() - started
            if not result.ok:
                raise CommandError(f"audit chain BROKEN at event #{result.first_bad_id}: {result.problem}")
            self.stdout.write(
                f"audit chain OK: {result.checked} events, last #{result.last_id}, "
                f"{len(store.read_checkpoints())} checkpoints, {elapsed:.2f} s"
            )
        elif action == "checkpoint":
            point = store.write_checkpoint()
            self.stdout.write(f"checkpoint: {point}" if point else "no events yet")
        elif action == "prune":
            try:
                outcome = store.prune(options["days"])
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"archived and pruned {outcome['archived']} events → {outcome['file']}")
        elif action == "export":
            events = AuditEvent.objects.order_by("id")
            if options["type"]:
                events = events.filter(event_type__startswith=options["type"])
            writer = csv.writer(sys.stdout)
            writer.writerow(store.EXPORT_COLUMNS)
            for row in store.export_rows(events):
                writer.writerow(row)
