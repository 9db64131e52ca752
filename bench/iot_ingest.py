"""End-to-end IoT ingest: MQTT publish → committed rows, next to the raw insert limit of the same
database for the same rows, in the same run; alarm latency; ingest memory over time.

    python bench/iot_ingest.py [--database sqlite|postgresql|both] [--messages 60000]
                               [--batched-messages 3000] [--alarms 200] [--memory-seconds 150]

Shapes: one reading per message (small sensors) and 100 readings per message (gateways), each
message authenticated with its device's token, through the real Mosquitto on 127.0.0.1:1883 and
a real `zhili ingest` process. Raw limit: the same rows with plain batched ``executemany``
(SQLite) or binary ``COPY`` (PostgreSQL) into a copy of the readings table. The 2 cores are
shared by broker, publisher, ingest and database (and other people's work): figures are noisy.
"""

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, BenchEnvironment, args_without_database, loadavg, pg_reachable, print_table  # noqa: E402

TARGETS = {"single_msgs": 10_000, "batched_sqlite": 50_000, "batched_postgresql": 80_000, "alarm_p99": 1.0}


def build(devices: int, gateways: int, alarm_devices: int = 0):
    """Migrate, create devices with tokens and one threshold rule; return (devices, gateways)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from zhili.iot.credentials import issue_credential
    from zhili.iot.models import Device, Rule
    from zhili.iot.store import metrics

    metrics.invalidate()
    out = []
    for kind, count in (("S", devices), ("G", gateways), ("A", alarm_devices)):
        for i in range(count):
            d = Device.objects.create(
                code=f"B{kind}-{i:05d}",
                name=f"bench {kind}{i}",
                device_type="air_station",
                rate_limit=10_000_000,
            )
            out.append((kind, d.pk, d.code, issue_credential(d).token))
    Rule.objects.create(
        code="bench-pm25",
        name="bench",
        kind="threshold",
        device_type="air_station",
        metric_id=metrics.by_code()["pm25"][0],
        params={"op": ">", "value": 900},
    )
    return [d for d in out if d[0] == "S"], [d for d in out if d[0] == "G"], [d for d in out if d[0] == "A"]


class Counter:
    """Counts committed readings from outside the ingest process."""

    def __init__(self, env: BenchEnvironment):
        self.env = env
        if env.database_url:
            import psycopg

            self.conn = psycopg.connect(env.database_url, autocommit=True)
        else:
            self.conn = sqlite3.connect(Path(env.data_dir) / "zhili.sqlite3", timeout=30)

    def count(self, table="iot_reading") -> int:
        return self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def query(self, sql):
        return self.conn.execute(sql).fetchall()


BROKER_PORT = 1883


class PrivateBroker:
    """A Mosquitto on a free loopback port configured as docs/iot.md recommends for load
    (the machine's broker keeps the default ``max_queued_messages 1000`` and drops QoS 1
    messages beyond it when a burst outruns the subscriber)."""

    def __init__(self, data_dir):
        from bench._common import free_port

        self.port = free_port()
        conf = Path(data_dir) / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 1000000\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
        )
        self.proc = subprocess.Popen(
            ["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.5)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def mosquitto_pub(lines_by_topic, port):
    """Publish each topic's lines as QoS 1 messages with mosquitto_pub (C, one process per topic)."""
    procs = []
    for topic, lines in lines_by_topic.items():
        p = subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic, "-l"],
            stdin=subprocess.PIPE,
        )
        procs.append((p, lines))
    for p, lines in procs:
        p.stdin.write(b"\n".join(lines) + b"\n")
        p.stdin.close()
    for p, _ in procs:
        p.wait(300)


def start_ingest(env, prefix, run):
    log = open(Path(env.data_dir) / f"ingest-{run}.log", "w")  # noqa: SIM115 (closed by stop_ingest)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zhili.cli",
            "ingest",
            "--topic-prefix",
            prefix,
            "--client-id",
            f"bench-{run}",
            "--group",
            f"b{run}",
            "--session-expiry",
            "60",
            "--port",
            str(BROKER_PORT),
        ],
        env=env.server_env(PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    end = time.monotonic() + 60
    while "subscribed to" not in Path(log.name).read_text():
        if time.monotonic() > end or proc.poll() is not None:
            raise SystemExit("ingest did not start:\n" + Path(log.name).read_text())
        time.sleep(0.1)
    time.sleep(0.3)
    return proc, log


def stop_ingest(proc, log):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def publisher():
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", BROKER_PORT)
    client.loop_start()
    return client


def payloads_single(devices, n, base_ms, prefix):
    out = []
    for i in range(n):
        _, _, code, token = devices[i % len(devices)]
        body = {
            "token": token,
            "metric": "pm25",
            "value": float(20 + i % 200),
            "ts": base_ms + (i // len(devices)) * 1000,
        }
        out.append((f"{prefix}/{code}/telemetry", json.dumps(body).encode()))
    return out


def payloads_batched(gateways, n, base_ms, prefix, per=100):
    out = []
    metrics = ["pm25", "pm10", "no2", "so2", "o3"]
    for i in range(n):
        _, _, code, token = gateways[i % len(gateways)]
        rnd = i // len(gateways)
        readings = [
            {
                "metric": metrics[k % 5],
                "value": float(10 + (i + k) % 300),
                "ts": base_ms + (rnd * per + k // 5) * 1000,
            }
            for k in range(per)
        ]
        out.append(
            (f"{prefix}/{code}/telemetry", json.dumps({"token": token, "readings": readings}).encode())
        )
    return out


def run_shape(env, counter, payloads, expect_rows, label, timeout=300):
    run = uuid.uuid4().hex[:8]
    prefix = f"bench{run}"
    payloads = [(t.replace("PREFIX", prefix), p) for t, p in payloads]
    proc, log = start_ingest(env, prefix, run)
    before = counter.count()
    by_topic = {}
    for topic, body in payloads:
        by_topic.setdefault(topic, []).append(body)
    load0 = loadavg()
    t0 = time.perf_counter()
    mosquitto_pub(by_topic, BROKER_PORT)
    t_pub = time.perf_counter() - t0
    end = time.monotonic() + timeout
    while counter.count() - before < expect_rows and time.monotonic() < end:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    stored = counter.count() - before
    stop_ingest(proc, log)
    return {
        "label": label,
        "messages": len(payloads),
        "rows": stored,
        "expected": expect_rows,
        "seconds": elapsed,
        "publish_s": t_pub,
        "msgs_per_s": len(payloads) / elapsed,
        "rows_per_s": stored / elapsed,
        "load": f"{load0} → {loadavg()}",
    }


def raw_limit(env, rows):
    """Rows/s of plain batched inserts of the same rows into a copy of the readings table."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_raw")
        c.execute(
            "CREATE TABLE bench_raw (device_id bigint NOT NULL, metric_id bigint NOT NULL, ts bigint NOT NULL, "
            "value double precision NOT NULL, PRIMARY KEY (device_id, metric_id, ts))"
        )
    connection.ensure_connection()
    t0 = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            for start in range(0, len(rows), 50_000):
                with c.cursor.copy(
                    "COPY bench_raw (device_id, metric_id, ts, value) FROM STDIN (FORMAT BINARY)"
                ) as cp:
                    cp.set_types(["int8", "int8", "int8", "float8"])
                    for r in rows[start : start + 50_000]:
                        cp.write_row(r)
        connection.commit() if not connection.get_autocommit() else None
    else:
        raw = connection.connection
        for start in range(0, len(rows), 50_000):
            raw.execute("BEGIN")
            raw.executemany("INSERT INTO bench_raw VALUES (?, ?, ?, ?)", rows[start : start + 50_000])
            raw.execute("COMMIT")
    seconds = time.perf_counter() - t0
    with connection.cursor() as c:
        c.execute("DROP TABLE bench_raw")
    return len(rows) / seconds


def alarm_latency(env, counter, devices, n, background_rate=200):
    """Publish one breaching reading per device under background load; latency = raised_at − publish."""
    run = uuid.uuid4().hex[:8]
    prefix = f"alarm{run}"
    proc, log = start_ingest(env, prefix, run)
    client = publisher()
    stop = threading.Event()

    def background():
        i = 0
        base = int(time.time() * 1000) - 7_200_000
        while not stop.is_set():
            t = time.perf_counter()
            for _ in range(background_rate // 20):
                _, _, code, token = devices[i % len(devices)]
                client.publish(
                    f"{prefix}/{code}/telemetry",
                    json.dumps({"token": token, "metric": "pm10", "value": 50.0, "ts": base + i}),
                    qos=1,
                )
                i += 1
            time.sleep(max(0.0, 0.05 - (time.perf_counter() - t)))

    bg = threading.Thread(target=background, daemon=True)
    bg.start()
    time.sleep(2)
    sent = {}
    for _, pk, code, token in devices[:n]:
        body = json.dumps({"token": token, "metric": "pm25", "value": 950.0, "ts": int(time.time() * 1000)})
        sent[pk] = time.time()
        client.publish(f"{prefix}/{code}/telemetry", body, qos=1)
        time.sleep(0.02)
    end = time.monotonic() + 60
    while counter.query("SELECT count(*) FROM iot_alarm")[0][0] < n and time.monotonic() < end:
        time.sleep(0.1)
    stop.set()
    bg.join(5)
    rows = counter.query("SELECT device_id, raised_at FROM iot_alarm")
    client.loop_stop()
    client.disconnect()
    stop_ingest(proc, log)
    from datetime import datetime

    lat = []
    for pk, raised in rows:
        if pk in sent:
            if isinstance(raised, str):
                raised = datetime.fromisoformat(raised)
            if raised.tzinfo is None:
                from datetime import UTC

                raised = raised.replace(tzinfo=UTC)
            lat.append(raised.timestamp() - sent[pk])
    lat.sort()
    return lat


def memory_run(env, counter, gateways, seconds, rate_readings=30_000):
    """RSS of the ingest process while it takes ``rate_readings`` per second in batches of 100."""
    run = uuid.uuid4().hex[:8]
    prefix = f"mem{run}"
    proc, log = start_ingest(env, prefix, run)
    client = publisher()
    per_tick = max(1, rate_readings // 100 // 10)  # messages per 0.1 s
    samples = []
    # Five metrics per message, so a gateway's data time moves 20 s per message: a 10-minute run
    # at 80,000 readings/s spans 5.6 days, all of it inside the accepted window (30 days old at
    # most, not in the future). Readings that crossed "now" would all be dead letters.
    metrics5 = ["pm25", "pm10", "no2", "so2", "o3"]
    span_s = seconds * per_tick * 10 / len(gateways) * 20
    base = int(time.time() * 1000) - int(span_s * 1000) - 3_600_000
    if span_s > 25 * 86_400:
        raise SystemExit(f"memory run too long for the accepted time window ({span_s / 86_400:.1f} days)")
    t0 = time.monotonic()
    i = 0
    next_sample = t0
    while time.monotonic() - t0 < seconds:
        tick = time.perf_counter()
        for _ in range(per_tick):
            _, _, code, token = gateways[i % len(gateways)]
            rnd = i // len(gateways)
            readings = [
                {"metric": metrics5[k % 5], "value": 40.0, "ts": base + (rnd * 20 + k // 5) * 1000}
                for k in range(100)
            ]
            client.publish(
                f"{prefix}/{code}/telemetry", json.dumps({"token": token, "readings": readings}), qos=1
            )
            i += 1
        if time.monotonic() >= next_sample:
            with open(f"/proc/{proc.pid}/status") as fh:
                rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))
            samples.append((round(time.monotonic() - t0), rss // 1024))
            next_sample += 10
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - tick)))
    client.loop_stop()
    client.disconnect()
    stop_ingest(proc, log)
    return samples, i * 100 / seconds


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--messages", type=int, default=60_000, help="single-reading messages")
    parser.add_argument("--batched-messages", type=int, default=3_000, help="messages of 100 readings")
    parser.add_argument(
        "--devices", type=int, default=20, help="single-reading devices (one mosquitto_pub each)"
    )
    parser.add_argument("--gateways", type=int, default=20)
    parser.add_argument(
        "--machine-broker",
        action="store_true",
        help="use the machine's broker on 1883 instead of a private, load-configured one",
    )
    parser.add_argument("--alarms", type=int, default=200)
    parser.add_argument("--memory-seconds", type=int, default=0, help="also run the memory test this long")
    args = parser.parse_args()
    if args.database == "both":
        for db in ("sqlite", "postgresql"):
            if db == "postgresql" and not pg_reachable():
                print("PostgreSQL not reachable: skipped")
                continue
            subprocess.run(
                [sys.executable, __file__, *args_without_database(sys.argv[1:]), "--database", db],
                check=False,
            )
        return
    global BROKER_PORT
    broker = None
    if not args.machine_broker:
        broker = PrivateBroker(tempfile.mkdtemp(prefix="zhili-bench-mosquitto-"))
        BROKER_PORT = broker.port
    try:
        run_all(args)
    finally:
        if broker:
            broker.stop()


def run_all(args):
    with BenchEnvironment("iot_ingest", args.database) as env:
        from bench._common import setup_django

        setup_django()
        print(
            f"database: {args.database}; broker port {BROKER_PORT}; load before: {loadavg()}; cores: {os.cpu_count()}"
        )
        devices, gateways, alarm_devices = build(args.devices, args.gateways, args.alarms)
        counter = Counter(env)
        base = int(time.time() * 1000) - 10 * 86_400_000
        single = payloads_single(devices, args.messages, base, "PREFIX")
        batched = payloads_batched(gateways, args.batched_messages, base + 3 * 86_400_000, "PREFIX")
        results = [
            run_shape(env, counter, single, args.messages, "1 reading/message"),
            run_shape(env, counter, batched, args.batched_messages * 100, "100 readings/message"),
        ]
        from zhili.iot.store import metrics

        mid = metrics.by_code()["pm25"][0]
        rng = random.Random(1)
        rows = [(rng.randrange(1, 2000), mid, base + i * 1000, float(i % 300)) for i in range(300_000)]
        raw = raw_limit(env, rows)
        kind = "binary COPY" if args.database == "postgresql" else "executemany"
        target_b = TARGETS[f"batched_{args.database}"]
        print_table(
            f"End-to-end MQTT ingest on {args.database} (2 shared cores; noisy)",
            [
                "shape",
                "messages",
                "rows stored",
                "seconds",
                "msgs/s",
                "readings/s",
                f"raw {kind} rows/s",
                "e2e/raw",
                "target",
                "load",
            ],
            [
                [
                    r["label"],
                    r["messages"],
                    f"{r['rows']}/{r['expected']}",
                    f"{r['seconds']:.1f}",
                    f"{r['msgs_per_s']:,.0f}",
                    f"{r['rows_per_s']:,.0f}",
                    f"{raw:,.0f}",
                    f"{r['rows_per_s'] / raw:.0%}",
                    (
                        f"≥{TARGETS['single_msgs']:,} msgs/s "
                        + ("OK" if r["msgs_per_s"] >= TARGETS["single_msgs"] else "MISS")
                    )
                    if i == 0
                    else (f"≥{target_b:,} rows/s " + ("OK" if r["rows_per_s"] >= target_b else "MISS")),
                    r["load"],
                ]
                for i, r in enumerate(results)
            ],
        )
        if args.alarms:
            lat = alarm_latency(env, counter, alarm_devices, args.alarms)
            if lat:
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                print_table(
                    "Alarm latency (publish → alarm raised in the ingest process; 200 msgs/s background, 80× the demo town simulator)",
                    ["alarms", "p50 s", "p99 s", "max s", "target"],
                    [
                        [
                            len(lat),
                            f"{statistics.median(lat):.3f}",
                            f"{p99:.3f}",
                            f"{lat[-1]:.3f}",
                            "≤1 s " + ("OK" if p99 <= TARGETS["alarm_p99"] else "MISS"),
                        ]
                    ],
                )
        if args.memory_seconds:
            # At the batched target rate of this database (50,000 readings/s SQLite, 80,000 PostgreSQL).
            target_rate = TARGETS["batched_postgresql" if args.database == "postgresql" else "batched_sqlite"]
            samples, rate = memory_run(env, counter, gateways, args.memory_seconds, target_rate)
            rss = [s[1] for s in samples]
            settled = rss[len(rss) // 4 :] or rss
            print_table(
                f"Ingest RSS over {args.memory_seconds} s at ~{rate:,.0f} readings/s offered (MB; sampled every 10 s)",
                ["samples (s:MB)", "first", "max", "last", "growth after warm-up"],
                [
                    [
                        " ".join(f"{t}:{m}" for t, m in samples),
                        rss[0],
                        max(rss),
                        rss[-1],
                        max(settled) - settled[0],
                    ]
                ],
            )
        print(f"load after: {loadavg()}")


if __name__ == "__main__":
    main()
