"""The hash chain of the audit stream (R-10.3-audit, R-10.3-integrity).

``hash(n) = H(hash(n-1) || canonical(n))`` with H = SM3 (GB/T 32905; ``ZHILI["AUDIT_HASH"]`` may
choose ``sha256``). ``canonical`` is the compact JSON array of the event's id, time (microseconds
since the Unix epoch, UTC), type, user, IP, user agent, request id, object type and id, success
and the details text. Including the id makes a reordered or renumbered row break the chain.

Writers append through ``append``: one transaction takes the chain head (row lock on PostgreSQL;
SQLite's IMMEDIATE transactions already serialise writers), inserts the event with the next id
and moves the head, with three plain SQL statements so that appending stays cheap.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger("zhili.audit")

GENESIS = "0" * 64
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)
TABLE = "audit_auditevent"
HEAD = "audit_chainhead"
COLUMNS = (
    "id",
    "time",
    "event_type",
    "username",
    "ip",
    "user_agent",
    "request_id",
    "object_type",
    "object_id",
    "success",
    "details",
    "prev_hash",
    "hash",
)


def hash_name() -> str:
    return settings.ZHILI.get("AUDIT_HASH", "sm3")


def micros(value) -> int:
    """Microseconds since the epoch of a datetime (aware or naive UTC) or a SQLite text value."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // MICRO


def canonical(
    event_id,
    time_us,
    event_type,
    username,
    ip,
    user_agent,
    request_id,
    object_type,
    object_id,
    success,
    details,
) -> str:
    return json.dumps(
        [
            event_id,
            time_us,
            event_type,
            username,
            ip,
            user_agent,
            request_id,
            object_type,
            object_id,
            bool(success),
            details,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def link(prev_hash: str, canonical_text: str, name: str | None = None) -> str:
    h = hashlib.new(name or hash_name())
    h.update(prev_hash.encode())
    h.update(canonical_text.encode())
    return h.hexdigest()


def details_text(details) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _clip(value, size: int) -> str:
    return "" if value is None else str(value)[:size]


def append(event: dict) -> int:
    """Store one event from ``zhili.core.audit.emit``; return its id."""
    when = event.get("time")
    when = datetime.fromisoformat(when) if isinstance(when, str) else (when or datetime.now(UTC))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    row = [
        when,
        _clip(event.get("type"), 64),
        _clip(event.get("user"), 150),
        _clip(event.get("ip"), 64),
        _clip(event.get("user_agent"), 300),
        _clip(event.get("request_id"), 64),
        _clip(event.get("object_type"), 100),
        _clip(event.get("object_id"), 64),
        bool(event.get("success", True)),
        details_text(event.get("details")),
    ]
    name = hash_name()
    vendor = connection.vendor
    lock = " FOR UPDATE" if vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT last_id, last_hash FROM {HEAD} WHERE id = 1{lock}")
        head = cursor.fetchone()
        if head is None:
            cursor.execute(f"INSERT INTO {HEAD} (id, last_id, last_hash) VALUES (1, 0, %s)", [GENESIS])
            head = (0, GENESIS)
        event_id, prev = head[0] + 1, head[1]
        digest = link(prev, canonical(event_id, micros(when), *row[1:]), name)
        db_time = when if vendor == "postgresql" else when.replace(tzinfo=None).isoformat(" ")
        cursor.execute(
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
            [event_id, db_time, *row[1:], prev, digest],
        )
        cursor.execute(f"UPDATE {HEAD} SET last_id = %s, last_hash = %s WHERE id = 1", [event_id, digest])
    return event_id


class VerifyResult:
    def __init__(self):
        self.ok = True
        self.checked = 0
        self.first_bad_id = None
        self.problem = ""
        self.last_id = 0
        self.last_hash = GENESIS

    def fail(self, event_id, problem: str):
        if self.ok:
            self.ok = False
            self.first_bad_id = event_id
            self.problem = problem

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_id": self.first_bad_id,
            "problem": self.problem,
            "last_id": self.last_id,
        }


def verify(checkpoints: list[dict] | None = None, batch: int = 20000) -> VerifyResult:
    """Check the whole chain, the head and the checkpoints; name the first broken event."""
    from zhili.audit.models import ChainHead

    result = VerifyResult()
    head = ChainHead.objects.filter(pk=1).first()
    expected_id = (head.anchor_id + 1) if head else 1
    prev = head.anchor_hash if head else GENESIS
    name = hash_name()
    by_id = {int(c["id"]): c["hash"] for c in (checkpoints or [])}
    cols = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {TABLE} ORDER BY id")
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                break
            for r in rows:
                event_id = r[0]
                if result.ok:
                    if event_id != expected_id:
                        result.fail(
                            expected_id,
                            f"event #{expected_id} is missing (deleted or renumbered); next is #{event_id}",
                        )
                    elif r[11] != prev:
                        result.fail(
                            event_id,
                            f"event #{event_id}: previous-hash link broken (rows reordered or edited)",
                        )
                    else:
                        digest = link(
                            prev,
                            canonical(
                                event_id, micros(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]
                            ),
                            name,
                        )
                        if digest != r[12]:
                            result.fail(
                                event_id, f"event #{event_id}: content does not match its hash (edited)"
                            )
                        if event_id in by_id and by_id[event_id] != r[12]:
                            result.fail(event_id, f"event #{event_id}: differs from the checkpoint")
                prev = r[12]
                expected_id = event_id + 1
                result.checked += 1
                result.last_id, result.last_hash = event_id, r[12]
    if result.ok and head is not None and head.last_id != result.last_id:
        result.fail(
            result.last_id + 1,
            f"the chain head says #{head.last_id} but the table ends at #{result.last_id}: tail truncated",
        )
    if result.ok and by_id:
        top = max(by_id)
        if top > result.last_id:
            result.fail(
                result.last_id + 1,
                f"checkpoint #{top} is beyond the last event #{result.last_id}: tail truncated",
            )
    return result
