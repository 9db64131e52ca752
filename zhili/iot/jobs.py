"""Periodic IoT jobs run by the scheduler of ``zhili up`` (and by ``zhili ingest``)."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from zhili.core.jobs import register_job
from zhili.iot.choices import DeviceStatus
from zhili.iot.store import iot_setting


def update_device_status(now=None) -> int:
    """Mark devices offline when not seen for their ``offline_after_s`` (or the default)."""
    from zhili.iot.models import Device

    now = now or timezone.now()
    default = int(iot_setting("IOT_OFFLINE_AFTER_S", 900))
    changed = (
        Device.objects.filter(enabled=False)
        .exclude(status=DeviceStatus.DISABLED)
        .update(status=DeviceStatus.DISABLED)
    )
    changed += Device.objects.filter(
        Q(offline_after_s__isnull=True, last_seen_at__lt=now - timedelta(seconds=default)),
        enabled=True,
        status=DeviceStatus.ONLINE,
    ).update(status=DeviceStatus.OFFLINE)
    for device in Device.objects.filter(
        enabled=True, status=DeviceStatus.ONLINE, offline_after_s__isnull=False
    ):
        if device.last_seen_at and (now - device.last_seen_at).total_seconds() > device.offline_after_s:
            Device.objects.filter(pk=device.pk).update(status=DeviceStatus.OFFLINE)
            changed += 1
    return changed


def run_monitoring() -> None:
    from zhili.iot.alarms import escalate_unacknowledged, evaluate_scheduled_rules

    update_device_status()
    evaluate_scheduled_rules()
    escalate_unacknowledged()


def run_retention() -> None:
    from zhili.iot.store import apply_retention

    apply_retention()


register_job("iot_monitoring", 60, run_monitoring)
register_job("iot_retention", 24 * 3600, run_retention)
