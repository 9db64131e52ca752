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


class BufferedClient(mqtt.Client):
    """paho's client reading the socket 64 KiB at a time.

    Stock paho reads each packet with several small ``recv`` calls (1 byte of command, the
    length, the body) and one packet per ``select``; that caps a subscriber near 2–3k messages/s
    on this machine class. This subclass serves those reads from a buffer and keeps reading while
    the buffer holds data. It overrides two internal methods of paho 2.x (``_sock_recv`` and
    ``loop_read``); ``tests/test_mqtt.py`` runs through it.
    """

    _rbuf = b""
    _rpos = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(65536)
            if not data:
                return data
            self._rbuf, self._rpos = data, 0
        chunk = self._rbuf[self._rpos : self._rpos + bufsize]
        self._rpos += len(chunk)
        return chunk

    def loop_read(self, max_packets: int = 1):
        rc = super().loop_read(max_packets)
        for _ in range(100_000):
            if rc != mqtt.MQTT_ERR_SUCCESS or self._rpos >= len(self._rbuf) or self._sock is None:
                break
            rc = super().loop_read(max_packets)
        return rc

    def _reset_sockets(self, *args, **kwargs):
        self._rbuf, self._rpos = b"", 0
        return super()._reset_sockets(*args, **kwargs)


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
        max_batch_bytes=2_000_000,
        linger=0.05,
        receive_maximum=2000,
        session_expiry=3600,
    ):
        self.host, self.port = host, port
        self.topic = f"$share/{group}/{topic_prefix}/+/telemetry" if group else f"{topic_prefix}/+/telemetry"
        self.ingestor = Ingestor(channel="mqtt", topic_prefix=topic_prefix)
        self.max_batch, self.max_batch_bytes, self.linger = max_batch, max_batch_bytes, linger
        self.queue: queue.Queue = queue.Queue(maxsize=receive_maximum * 2)
        self.stop_event = threading.Event()
        self.connected = threading.Event()
        self.batches = 0
        self.client = BufferedClient(
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
        size = len(first[1])
        deadline = time.monotonic() + self.linger
        while len(batch) < self.max_batch and size < self.max_batch_bytes:
            timeout = deadline - time.monotonic()
            try:
                item = self.queue.get(timeout=timeout) if timeout > 0 else self.queue.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
            size += len(item[1])
        return batch

    def work(self):
        """Process batches until stopped; each batch is committed before it is acknowledged."""
        stats_at, stats = time.monotonic() + 10, [0, 0, 0.0]
        while not self.stop_event.is_set():
            batch = self._drain()
            if time.monotonic() >= stats_at and stats[0]:
                logger.info(
                    "%d batches, %d messages (%.0f per batch), %.1f ms per batch, queue %d",
                    stats[0],
                    stats[1],
                    stats[1] / stats[0],
                    stats[2] * 1000 / stats[0],
                    self.queue.qsize(),
                )
                stats_at, stats = time.monotonic() + 10, [0, 0, 0.0]
            if not batch:
                continue
            while True:
                try:
                    began = time.perf_counter()
                    self.ingestor.process([(t, p) for t, p, _, _ in batch])
                    stats[0] += 1
                    stats[1] += len(batch)
                    stats[2] += time.perf_counter() - began
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
