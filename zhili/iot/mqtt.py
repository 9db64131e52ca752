"""The MQTT side of ingestion: subscribe, batch, commit, then acknowledge (QoS 1).

Messages go from paho's network thread into a bounded queue; one worker drains up to
``max_batch`` messages (or what arrived within ``linger`` seconds), runs them through the
``Ingestor`` in one transaction and only then sends the PUBACKs (``manual_ack``). A crash before
the commit leaves the messages unacknowledged: the broker redelivers them to the persistent
session (``clean_start=False``) or to another member of the shared subscription, and the store's
(device, metric, ts) key makes the redelivery harmless. MQTT 5's Receive Maximum bounds the
unacknowledged messages in flight, so memory stays flat under any load.
"""

import logging
import queue
import signal
import threading
import time

import paho.mqtt.client as mqtt
from django.db import close_old_connections
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from zhili.iot.ingest import Ingestor

logger = logging.getLogger("zhili.iot.mqtt")


class MqttIngest:
    def __init__(
        self,
        *,
        host="127.0.0.1",
        port=1883,
        client_id="zhili-ingest-1",
        group="zhili",
        topic_prefix="zhili",
        username=None,
        password=None,
        max_batch=5000,
        linger=0.05,
        receive_maximum=10000,
        session_expiry=3600,
    ):
        self.host, self.port = host, port
        self.topic = f"$share/{group}/{topic_prefix}/+/telemetry" if group else f"{topic_prefix}/+/telemetry"
        self.ingestor = Ingestor(channel="mqtt", topic_prefix=topic_prefix)
        self.max_batch, self.linger = max_batch, linger
        self.queue: queue.Queue = queue.Queue(maxsize=receive_maximum * 2)
        self.stop_event = threading.Event()
        self.connected = threading.Event()
        self.batches = 0
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        self.client.max_inflight_messages_set(receive_maximum)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry
        props.ReceiveMaximum = min(receive_maximum, 65535)
        self.connect_props = props

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("MQTT connection refused: %s", reason_code)
            return
        client.subscribe(self.topic, qos=1)
        self.connected.set()
        logger.info("subscribed to %s (session present: %s)", self.topic, flags.session_present)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self.stop_event.is_set():
            logger.warning("MQTT disconnected (%s); paho reconnects", reason_code)

    def _on_message(self, client, userdata, msg):
        self.queue.put((msg.topic, msg.payload, msg.mid, msg.qos))

    def _drain(self):
        try:
            first = self.queue.get(timeout=0.5)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.linger
        while len(batch) < self.max_batch:
            timeout = deadline - time.monotonic()
            try:
                batch.append(self.queue.get(timeout=timeout) if timeout > 0 else self.queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def work(self):
        """Process batches until stopped; each batch is committed before it is acknowledged."""
        while not self.stop_event.is_set():
            batch = self._drain()
            if not batch:
                continue
            while True:
                try:
                    self.ingestor.process([(t, p) for t, p, _, _ in batch])
                    break
                except Exception:
                    # Database down or locked: keep the messages unacknowledged and retry.
                    logger.exception("batch of %d failed; retrying", len(batch))
                    close_old_connections()
                    if self.stop_event.wait(1.0):
                        return
            for _, _, mid, qos in batch:
                if qos > 0:
                    self.client.ack(mid, qos)
            self.batches += 1

    def run(self, duration: float | None = None):
        self.client.reconnect_delay_set(1, 10)
        self.client.connect(
            self.host, self.port, keepalive=30, clean_start=False, properties=self.connect_props
        )
        self.client.loop_start()
        worker = threading.Thread(target=self.work, name="zhili-ingest-worker", daemon=True)
        worker.start()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *a: self.stop_event.set())
        started = time.monotonic()
        try:
            while not self.stop_event.wait(1.0):
                if duration is not None and time.monotonic() - started > duration:
                    break
        finally:
            self.stop_event.set()
            worker.join(timeout=30)
            self.client.disconnect()
            self.client.loop_stop()
