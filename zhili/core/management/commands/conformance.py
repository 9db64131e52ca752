from django.core.management.base import BaseCommand, CommandError

from zhili.core.conformance.report import format_report, load_report, report_path


class Command(BaseCommand):
    help = "Print the latest conformance report: each requirement ID with the tests that prove it."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the raw JSON report.")

    def handle(self, *args, **options):
        report = load_report()
        if report is None:
            raise CommandError(f"No conformance report at {report_path()}: run the test suite first.")
        if options["json"]:
            import json

            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            self.stdout.write(format_report(report))
