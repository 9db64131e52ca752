"""The audit store around the chain: sink, checkpoints, retention with archive, alert rule."""

import contextlib
import csv
import gzip
import json
import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from zhili.audit import chain

logger = logging.getLogger("zhili.audit")

DEFAULTS = {
    "AUDIT_RETENTION_DAYS": 180,
    "AUDIT_CHECKPOINT_SECONDS": 600,
    "AUDIT_ALERT_FAILURES": 5,
    "AUDIT_ALERT_MINUTES": 10,
}
FAILED_SIGN_IN = ("auth.login_failed",)


def setting(name):
    return settings.ZHILI.get(name, DEFAULTS.get(name))


def checkpoint_path() -> Path:
    configured = settings.ZHILI.get("AUDIT_CHECKPOINT_FILE")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-checkpoints.jsonl"


def archive_dir() -> Path:
    configured = settings.ZHILI.get("AUDIT_ARCHIVE_DIR")
    path = Path(configured) if configured else Path(settings.DATA_DIR) / "audit-archive"
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- sink ---------------------------------------------------------------------------------------


def sink(event: dict) -> None:
    """The audit seam's sink: append to the chain, then apply the alert rule."""
    chain.append(event)
    if event.get("type") in FAILED_SIGN_IN:
        check_failed_sign_ins(event)


def check_failed_sign_ins(event: dict) -> None:
    """N failed sign-ins for one account or one IP within M minutes raise a security notice."""
    from zhili.audit.models import AuditEvent

    limit = int(setting("AUDIT_ALERT_FAILURES"))
    since = timezone.now() - timedelta(minutes=int(setting("AUDIT_ALERT_MINUTES")))
    username = (event.get("details") or {}).get("username") or event.get("user") or ""
    failures = AuditEvent.objects.filter(event_type__in=FAILED_SIGN_IN, time__gte=since)
    for key, value in (("username", username), ("ip", event.get("ip") or "")):
        if not value:
            continue
        if key == "username":
            count = failures.filter(details__contains=json.dumps(value, ensure_ascii=False)).count()
        else:
            count = failures.filter(ip=value).count()
        if count == limit:  # once per burst, not on every further failure
            raise_alert(key, value, count)


def raise_alert(key: str, value: str, count: int) -> None:
    from django.contrib.auth import get_user_model

    from zhili.core import audit, notices

    recipients = list(
        get_user_model()
        .objects.filter(roles__duty__in=["security_admin", "audit_admin"], is_active=True)
        .distinct()
    )
    minutes = setting("AUDIT_ALERT_MINUTES")
    label = "账号" if key == "username" else "IP"
    notices.notify(
        recipients,
        f"安全告警：{label} {value} 在 {minutes} 分钟内登录失败 {count} 次",
        body=f"{label} {value} failed to sign in {count} times within {minutes} minutes.",
        url="/audit/login-log/",
        level="danger",
        category="security.login_failures",
    )
    audit.emit(
        "security.alert", success=False, details={"rule": "login_failures", key: value, "count": count}
    )


# -- checkpoints --------------------------------------------------------------------------------


def read_checkpoints() -> list[dict]:
    path = checkpoint_path()
    if not path.exists():
        return []
    result = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                result.append(json.loads(line))
            except ValueError:
                logger.error("unreadable audit checkpoint line: %r", line[:80])
    return result


def write_checkpoint() -> dict | None:
    """Append the chain head to the checkpoint file kept apart from the database."""
    from zhili.audit.models import ChainHead

    head = ChainHead.objects.filter(pk=1).first()
    if head is None or head.last_id == 0:
        return None
    existing = read_checkpoints()
    if existing and int(existing[-1]["id"]) == head.last_id:
        return existing[-1]
    point = {"id": head.last_id, "hash": head.last_hash, "time": timezone.now().isoformat()}
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(point) + "\n")
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    return point


def verify():
    """Verify the chain against the head and the external checkpoints."""
    return chain.verify(read_checkpoints())


# -- retention ----------------------------------------------------------------------------------


class maintenance_permit:
    """Allow DELETE of audit rows inside the current transaction (pruning, test flush)."""

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL zhili.audit_maintenance = 'on'")
            elif connection.vendor == "sqlite":
                cursor.execute("INSERT INTO audit_maintenance (permit) VALUES (1)")
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL zhili.audit_maintenance = 'off'")
            elif connection.vendor == "sqlite":
                cursor.execute("DELETE FROM audit_maintenance")
        return False


EXPORT_COLUMNS = list(chain.COLUMNS)


def export_rows(queryset):
    """CSV rows of events (ISO 8601 times) for archives and the audit browser's export."""
    for row in queryset.values_list(*EXPORT_COLUMNS).iterator(chunk_size=5000):
        yield [v.isoformat() if hasattr(v, "isoformat") else v for v in row]


def prune(days: int | None = None, *, now=None) -> dict:
    """Archive events older than the retention period to a gzip CSV, then delete them.

    Never goes below 180 days (R-10.3-audit). The first remaining event keeps its link: the
    chain head records the last archived event as the new anchor.
    """
    from zhili.audit.models import AuditEvent, ChainHead
    from zhili.core import audit

    days = max(int(days or setting("AUDIT_RETENTION_DAYS")), 180)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = AuditEvent.objects.filter(time__lt=cutoff).order_by("id")
    last = old.values_list("id", "hash").last()
    if last is None:
        return {"archived": 0, "file": None}
    result = verify()
    if not result.ok:
        raise RuntimeError(f"audit chain broken at #{result.first_bad_id}; not pruning: {result.problem}")
    name = archive_dir() / f"audit-{timezone.now():%Y%m%dT%H%M%S}-to-{last[0]}.csv.gz"
    count = 0
    with gzip.open(name, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(EXPORT_COLUMNS)
        for row in export_rows(AuditEvent.objects.filter(id__lte=last[0]).order_by("id")):
            writer.writerow(row)
            count += 1
    with transaction.atomic():
        with maintenance_permit():
            AuditEvent.objects.filter(id__lte=last[0]).delete()
        ChainHead.objects.filter(pk=1).update(anchor_id=last[0], anchor_hash=last[1])
    audit.emit(
        "audit.prune", details={"archived": count, "up_to_id": last[0], "file": name.name, "days": days}
    )
    return {"archived": count, "file": str(name)}


def prune_job() -> None:
    prune()


def checkpoint_job() -> None:
    write_checkpoint()
