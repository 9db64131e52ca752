"""``zhili ingest``: subscribe to the MQTT broker and store telemetry (see docs/iot.md)."""

import logging
import os

from django.core.management.base import BaseCommand

from zhili.iot.store import iot_setting


class Command(BaseCommand):
    help = "Ingest device telemetry from MQTT (QoS 1, shared subscription, ack after commit)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=iot_setting("IOT_MQTT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(iot_setting("IOT_MQTT_PORT", 1883)))
        parser.add_argument(
            "--client-id",
            default=f"zhili-ingest-{os.uname().nodename}-1",
            help="stable per process: the broker keeps its session across restarts",
        )
        parser.add_argument("--group", default="zhili", help="shared subscription group ('' for none)")
        parser.add_argument("--topic-prefix", default=iot_setting("IOT_TOPIC_PREFIX", "zhili"))
        parser.add_argument("--username", default=os.environ.get("ZHILI_MQTT_USERNAME"))
        parser.add_argument("--max-batch", type=int, default=5000)
        parser.add_argument("--linger", type=float, default=0.05, help="seconds to wait to fill a batch")
        parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        parser.add_argument(
            "--session-expiry",
            type=int,
            default=3600,
            help="seconds the broker keeps the session (and queues messages) while disconnected",
        )
        parser.add_argument("--jobs", action="store_true", help="also run the IoT monitoring jobs")

    def handle(self, *args, **opts):
        logging.getLogger("zhili").setLevel(logging.INFO)
        from zhili.iot.mqtt import MqttIngest

        ingest = MqttIngest(
            host=opts["host"],
            port=opts["port"],
            client_id=opts["client_id"],
            group=opts["group"],
            topic_prefix=opts["topic_prefix"],
            username=opts["username"],
            password=os.environ.get("ZHILI_MQTT_PASSWORD"),
            max_batch=opts["max_batch"],
            linger=opts["linger"],
            session_expiry=opts["session_expiry"],
        )
        scheduler = None
        if opts["jobs"]:
            from zhili.core.jobs import Scheduler

            scheduler = Scheduler()
            scheduler.start()
        self.stdout.write(
            f"Ingesting {ingest.topic} from {opts['host']}:{opts['port']} as {opts['client_id']}"
        )
        self.stdout.flush()
        try:
            ingest.run(duration=opts["duration"])
        finally:
            if scheduler:
                scheduler.stop()
        totals = dict(ingest.ingestor.totals)
        self.stdout.write(f"Stopped. {totals}")
