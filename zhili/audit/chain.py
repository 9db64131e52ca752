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
import re
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring as _enc

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
    return int(value.timestamp()) * 1_000_000 + value.microsecond


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
    """The event as compact JSON: ``[id,time_us,"type","user","ip","ua","rid","otype","oid",ok,{details}]``.

    ``details`` is already canonical JSON text (sorted keys, compact), embedded as an object.
    Built with the C string encoder: it runs once per event on append and on every verify.
    """
    return (
        f"[{event_id},{time_us},{_enc(event_type)},{_enc(username)},{_enc(ip)},{_enc(user_agent)},"
        f"{_enc(request_id)},{_enc(object_type)},{_enc(object_id)},{'true' if success else 'false'},{details}]"
    )


def link(prev_hash: str, canonical_text: str, name: str | None = None) -> str:
    return hashlib.new(name or hash_name(), (prev_hash + canonical_text).encode()).hexdigest()


def details_text(details) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clip(value, size: int) -> str:
    return "" if value is None else _CONTROL.sub(" ", str(value))[:size]


_cached_head: dict = {}


def append(event: dict) -> int:
    """Store one event from ``zhili.core.audit.emit``; return its id.

    The head is cached per process and claimed with a conditional UPDATE (``WHERE last_id =
    <cached>``): if another process appended meanwhile the UPDATE matches nothing, the head is
    re-read and the claim retried. Inside a caller's transaction the event commits (or rolls
    back) with the caller's data change; otherwise it commits on its own.
    """
    when = event.get("time")
    when = datetime.fromisoformat(when) if isinstance(when, str) else (when or datetime.now(UTC))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    row = [
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
    time_us = micros(when)
    vendor = connection.vendor
    mark = "?" if vendor == "sqlite" else "%s"
    db_time = when if vendor != "sqlite" else when.replace(tzinfo=None).isoformat(" ")
    insert = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))})"
    claim = f"UPDATE {HEAD} SET last_id = {mark}, last_hash = {mark} WHERE id = 1 AND last_id = {mark}"
    alias = connection.alias
    with transaction.atomic(savepoint=False):
        connection.ensure_connection()
        cursor = connection.connection.cursor()
        try:
            for _attempt in range(1000):
                head = _cached_head.get(alias)
                if head is None:
                    cursor.execute(f"SELECT last_id, last_hash FROM {HEAD} WHERE id = 1")
                    head = cursor.fetchone()
                    if head is None:
                        cursor.execute(
                            f"INSERT INTO {HEAD} (id, last_id, last_hash, anchor_id, anchor_hash) "
                            f"VALUES (1, 0, {mark}, 0, {mark})",
                            [GENESIS, GENESIS],
                        )
                        head = (0, GENESIS)
                event_id = head[0] + 1
                digest = link(head[1], canonical(event_id, time_us, *row), name)
                cursor.execute(claim, [event_id, digest, head[0]])
                if cursor.rowcount == 1:
                    break
                _cached_head.pop(alias, None)  # another process appended: re-read the head
            else:
                raise RuntimeError("could not claim the audit chain head")
            cursor.execute(insert, [event_id, db_time, *row, head[1], digest])
        finally:
            cursor.close()
        # If the caller's transaction rolls back later, the cached head is stale: the next
        # claim matches nothing and re-reads the head, so the chain stays linear.
        _cached_head[alias] = (event_id, digest)
    return event_id


def forget_head() -> None:
    """Drop the cached chain head (after a rollback, a flush or maintenance)."""
    _cached_head.clear()


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
    new_hash = hashlib.new
    name = hash_name()
    by_id = {int(c["id"]): c["hash"] for c in (checkpoints or [])}
    cols = ", ".join(COLUMNS)
    checked = 0
    bad = None
    fromiso = datetime.fromisoformat
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {TABLE} ORDER BY id")
        while bad is None:
            rows = cursor.fetchmany(batch)
            if not rows:
                break
            for event_id, when, etype, user, ip, ua, rid, otype, oid, ok, details, prev_hash, digest in rows:
                if event_id != expected_id:
                    bad = (
                        expected_id,
                        f"event #{expected_id} is missing (deleted or renumbered); next is #{event_id}",
                    )
                    break
                if prev_hash != prev:
                    bad = (
                        event_id,
                        f"event #{event_id}: previous-hash link broken (rows reordered or edited)",
                    )
                    break
                if when.__class__ is str:
                    when = fromiso(when)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                time_us = int(when.timestamp()) * 1_000_000 + when.microsecond
                text = (
                    f"{prev}[{event_id},{time_us},{_enc(etype)},{_enc(user)},{_enc(ip)},{_enc(ua)},"
                    f"{_enc(rid)},{_enc(otype)},{_enc(oid)},{'true' if ok else 'false'},{details}]"
                )
                if new_hash(name, text.encode()).hexdigest() != digest:
                    bad = (event_id, f"event #{event_id}: content does not match its hash (edited)")
                    break
                if by_id and event_id in by_id and by_id[event_id] != digest:
                    bad = (event_id, f"event #{event_id}: differs from the checkpoint")
                    break
                prev = digest
                expected_id = event_id + 1
                checked += 1
    result.checked = checked
    result.last_id, result.last_hash = expected_id - 1, prev
    if bad is not None:
        result.fail(*bad)
        return result
    if head is not None and head.last_id != result.last_id:
        result.fail(
            result.last_id + 1,
            f"the chain head says #{head.last_id} but the table ends at #{result.last_id}: tail truncated",
        )
    elif by_id and max(by_id) > result.last_id:
        result.fail(
            result.last_id + 1,
            f"checkpoint #{max(by_id)} is beyond the last event #{result.last_id}: tail truncated",
        )
    return result
