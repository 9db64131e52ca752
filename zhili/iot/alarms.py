"""The alarm engine: rules evaluated on every committed batch; alarm lifecycle (R-5.3.2-monitor).

Raised → acknowledged → closed, with who and when; one open alarm per device and rule (repeats
count as breaches of the open alarm); escalation of unacknowledged alarms by a job; notices to
the device's grid staff and alarm handlers; optionally a case through ``zhili.cases``.
"""

import logging
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

import shapely
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhili.core.audit import emit
from zhili.core.changes import record_change, snapshot
from zhili.core.models import ChangeAction
from zhili.core.notices import notify
from zhili.iot import hooks
from zhili.iot.choices import AlarmStatus
from zhili.iot.rules import get_kind

logger = logging.getLogger("zhili.iot.alarms")


class RuleCache:
    """Enabled batch rules indexed by (device type or device id, metric id), reloaded every 5 s."""

    def __init__(self, ttl: float = 5.0):
        self.ttl, self._loaded, self._lock = ttl, -1e9, threading.Lock()
        self.by_type, self.by_device = defaultdict(list), defaultdict(list)
        self.metric_codes = set()

    def invalidate(self, *args, **kwargs):
        self._loaded = -1e9

    def refresh(self):
        if time.monotonic() - self._loaded < self.ttl:
            return
        from zhili.iot.models import Rule

        by_type, by_device = defaultdict(list), defaultdict(list)
        for rule in Rule.objects.filter(enabled=True).select_related("metric"):
            kind = get_kind(rule.kind)
            if kind is None or kind.trigger != "batch" or rule.metric_id is None:
                continue
            if rule.device_id:
                by_device[(rule.device_id, rule.metric_id)].append(rule)
            else:
                by_type[(rule.device_type, rule.metric_id)].append(rule)
        codes = {r.metric.code for rules in [*by_type.values(), *by_device.values()] for r in rules}
        with self._lock:
            self.by_type, self.by_device, self.metric_codes = by_type, by_device, codes
            self._loaded = time.monotonic()


rules_cache = RuleCache()


class AlarmStateError(ValueError):
    """The alarm is not in a state that allows this transition."""


class DeviceCache:
    """Device rows the rule engine hands to evaluators, kept for a minute: loading a thousand
    model instances per batch would cost more than the whole ingest."""

    def __init__(self, ttl: float = 60.0):
        self.ttl, self._loaded, self._devices = ttl, time.monotonic(), {}

    def invalidate(self, *args, **kwargs):
        self._devices = {}

    def get_many(self, ids) -> dict:
        from zhili.iot.models import Device

        if time.monotonic() - self._loaded > self.ttl:
            self._devices, self._loaded = {}, time.monotonic()
        missing = [i for i in ids if i not in self._devices]
        if missing:
            self._devices.update(Device.objects.select_related("grid").in_bulk(missing))
        return {i: self._devices[i] for i in ids if i in self._devices}


device_cache = DeviceCache()


def _ms_to_dt(ts: int | None):
    return datetime.fromtimestamp(ts / 1000, tz=UTC) if ts is not None else None


_deferred = threading.local()


def _after_raise(effect) -> None:
    """Run an alarm's side effects now, or after the batch when a batch is being evaluated (so
    the notices of the first alarm do not delay raising the next one)."""
    pending = getattr(_deferred, "effects", None)
    if pending is None:
        effect()
    else:
        pending.append(effect)


def _announce(alarm, rule, device, verdict) -> None:
    """Audit, notify and (if the rule says so) open a case for a newly raised alarm."""
    emit(
        "iot.alarm.raise",
        obj=alarm,
        details={"device": device.code, "rule": rule.code, "value": verdict.value},
    )
    _notify(alarm, _("Alarm: %(device)s — %(message)s") % {"device": device.name, "message": alarm.message})
    if rule.open_case:
        try:
            open_case_for_alarm(alarm, user=None)
        except LookupError as exc:  # the cases module is not installed
            logger.warning("alarm %s: no case opened: %s", alarm.pk, exc)
        except Exception:
            logger.exception("could not open a case for alarm %s", alarm.pk)


def on_batch(batch) -> None:
    """Reading listener: evaluate the matching rules on the new rows of each device and metric.

    Alarm texts are stored in the site language (``LANGUAGE_CODE``), whoever triggered them.
    """
    _deferred.effects = []
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _on_batch(batch)
    finally:
        effects, _deferred.effects = _deferred.effects, None
        with translation.override(settings.LANGUAGE_CODE):
            for effect in effects:
                effect()


def _on_batch(batch) -> None:
    from zhili.iot.store import metrics

    rules_cache.refresh()
    if not rules_cache.by_type and not rules_cache.by_device:
        return
    by_code = metrics.by_code()
    ruled = rules_cache.metric_codes
    groups = defaultdict(list)
    for row in batch:
        if row.metric_code in ruled:
            groups[(row.device_id, by_code[row.metric_code][0])].append((row.ts, row.value))
    if not groups:
        return
    metric_ids = {m for _, m in groups}
    if any(k[1] in metric_ids for k in rules_cache.by_type):
        wanted = {d for d, _ in groups}
    else:
        wanted = {d for d, m in groups if (d, m) in rules_cache.by_device}
    if not wanted:
        return
    devices = device_cache.get_many(wanted)
    for (device_id, metric_id), readings in groups.items():
        device = devices.get(device_id)
        if device is None:
            continue
        rules = (
            rules_cache.by_device.get((device_id, metric_id), [])
            + rules_cache.by_type.get((device.device_type, metric_id), [])
            + rules_cache.by_type.get(("", metric_id), [])
        )
        if rules:
            readings.sort()
            for rule in rules:
                evaluate_rule(rule, device, readings)


def evaluate_rule(rule, device, readings) -> object:
    """Evaluate one rule and apply the verdict; return the alarm raised or updated, if any."""
    kind = get_kind(rule.kind)
    try:
        verdict = kind.evaluate(rule, device, readings)
    except Exception:
        logger.exception("rule %s failed on device %s", rule.code, device.code)
        return None
    if verdict is None:
        return None
    if verdict.breached:
        return raise_alarm(rule, device, verdict)
    if rule.auto_close:
        close_open_alarm(rule, device, note=_("Back to normal"))
    return None


def raise_alarm(rule, device, verdict):
    """Raise an alarm or, if one is open for this device and rule, count the breach on it."""
    from zhili.iot.models import Alarm

    now = timezone.now()
    observed = _ms_to_dt(verdict.ts) or now
    open_alarm = Alarm.objects.filter(device=device, rule=rule).exclude(status=AlarmStatus.CLOSED).first()
    if open_alarm is not None:
        Alarm.objects.filter(pk=open_alarm.pk).update(
            last_breach_at=observed, breach_count=open_alarm.breach_count + 1, value=verdict.value
        )
        return open_alarm
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(
                device=device,
                rule=rule,
                metric_id=rule.metric_id,
                severity=rule.severity,
                message=(verdict.message or rule.name)[:300],
                value=verdict.value,
                observed_at=observed,
                raised_at=now,
                last_breach_at=observed,
                owner_unit=device.owner_unit,
                data_source="device",
            )
            record_change(alarm, ChangeAction.CREATE, message=_("Alarm raised"))
    except IntegrityError:  # another ingest process raised it first
        return Alarm.objects.filter(device=device, rule=rule).exclude(status=AlarmStatus.CLOSED).first()
    _after_raise(lambda: _announce(alarm, rule, device, verdict))
    return alarm


_recipients_cache: dict = {}


def alarm_recipients(alarm):
    """The device's grid leader and members, and users who may acknowledge alarms (cached for a
    minute per grid: an alarm storm must not run these queries for every alarm)."""
    key = alarm.device.grid_id
    hit = _recipients_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < 60:
        return hit[1]
    users = _alarm_recipients(alarm)
    _recipients_cache[key] = (time.monotonic(), users)
    return users


def _alarm_recipients(alarm):
    from django.contrib.auth import get_user_model

    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__codename="acknowledge_alarm")
            | Q(groups__permissions__codename="acknowledge_alarm")
        )
    )
    grid = alarm.device.grid
    extra = []
    if grid is not None:
        extra = [
            u for u in ([grid.leader] if grid.leader_id else []) + list(grid.members.all()) if u.is_active
        ]
    return list({u.pk: u for u in [*users.distinct(), *extra]}.values())


def _notify(alarm, title, level=None):
    level = level or ("danger" if alarm.severity in ("major", "critical") else "warning")
    try:
        notify(
            alarm_recipients(alarm),
            title,
            body=alarm.message,
            url=reverse("iot:alarm_detail", args=[alarm.pk]),
            level=level,
            category="iot.alarm",
            obj=alarm,
        )
    except Exception:
        logger.exception("notice for alarm %s failed", alarm.pk)


def _transition(alarm, user, status, note="", **fields):
    from zhili.iot.models import Alarm

    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
        before = snapshot(alarm)
        alarm.status = status
        for k, v in fields.items():
            setattr(alarm, k, v)
        if note:
            alarm.close_note = note[:300]
        alarm.updated_by = user if user is not None and getattr(user, "is_authenticated", False) else None
        alarm.save()
        record_change(alarm, ChangeAction.UPDATE, user=alarm.updated_by, prechange=before, message=status)
    emit(f"iot.alarm.{status}", user=alarm.updated_by, obj=alarm, details={"device": alarm.device.code})
    return alarm


def acknowledge(alarm, user):
    """Raised → acknowledged. Raise ValueError if the alarm is not raised."""
    if alarm.status != AlarmStatus.RAISED:
        raise AlarmStateError(_("Only a raised alarm can be acknowledged."))
    return _transition(
        alarm, user, AlarmStatus.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=timezone.now()
    )


def close(alarm, user, note=""):
    """Raised or acknowledged → closed."""
    if alarm.status == AlarmStatus.CLOSED:
        raise AlarmStateError(_("The alarm is already closed."))
    return _transition(alarm, user, AlarmStatus.CLOSED, note=note, closed_by=user, closed_at=timezone.now())


def close_open_alarm(rule, device, note=""):
    from zhili.iot.models import Alarm

    alarm = Alarm.objects.filter(device=device, rule=rule).exclude(status=AlarmStatus.CLOSED).first()
    if alarm is not None:
        close(alarm, None, note)


def open_case_for_alarm(alarm, user):
    """Open a case for the alarm through ``zhili.cases.services.open_case`` (source=alarm).

    Raise LookupError if the cases app is not installed.
    """
    from django.apps import apps

    if not apps.is_installed("zhili.cases"):
        raise LookupError(_("The cases module is not installed."))
    if alarm.case_id:
        return alarm.case_id
    from zhili.cases.services import open_case

    device = alarm.device
    case = open_case(
        category=alarm.rule.case_category or "device.fault",
        title=f"{device.name}: {alarm.message}"[:200],
        description=_("Raised by rule %(rule)s at %(time)s; value %(value)s.")
        % {
            "rule": alarm.rule.name,
            "time": timezone.localtime(alarm.raised_at).strftime("%Y-%m-%d %H:%M"),
            "value": alarm.value,
        },
        channel="alarm",
        location=shapely.to_geojson(device.geometry) if device.geometry is not None else None,
        address=device.address,
        grid=device.grid,
        urgent=alarm.severity == "critical",
        source=alarm,
        user=user,
    )
    from zhili.iot.models import Alarm

    Alarm.objects.filter(pk=alarm.pk).update(case_id=case.pk, updated_at=timezone.now())
    alarm.case_id = case.pk
    emit("iot.alarm.open_case", user=user, obj=alarm, details={"case": case.pk})
    return case.pk


def escalate_unacknowledged(now=None) -> int:
    """Escalate raised alarms whose rule's ``escalate_after_minutes`` has passed since raising
    (or since the last escalation): bump the level, notify again at danger level."""
    from zhili.iot.models import Alarm

    now = now or timezone.now()
    count = 0
    for alarm in Alarm.objects.filter(
        status=AlarmStatus.RAISED, rule__escalate_after_minutes__isnull=False
    ).select_related("rule", "device", "device__grid"):
        since = alarm.escalated_at or alarm.raised_at
        if (now - since).total_seconds() >= alarm.rule.escalate_after_minutes * 60:
            Alarm.objects.filter(pk=alarm.pk).update(
                escalation_level=alarm.escalation_level + 1, escalated_at=now, updated_at=now
            )
            alarm.escalation_level += 1
            emit("iot.alarm.escalate", obj=alarm, details={"level": alarm.escalation_level})
            _notify(
                alarm,
                _("Unacknowledged alarm (escalation %(level)d): %(device)s — %(message)s")
                % {"level": alarm.escalation_level, "device": alarm.device.name, "message": alarm.message},
                level="danger",
            )
            count += 1
    return count


def evaluate_scheduled_rules() -> int:
    """Evaluate the schedule-triggered rules (missing data) for every matching enabled device."""
    with translation.override(settings.LANGUAGE_CODE):
        return _evaluate_scheduled_rules()


def _evaluate_scheduled_rules() -> int:
    from zhili.iot.models import Device, Rule

    raised = 0
    for rule in Rule.objects.filter(enabled=True).select_related("metric"):
        kind = get_kind(rule.kind)
        if kind is None or kind.trigger != "schedule":
            continue
        devices = Device.objects.filter(enabled=True)
        if rule.device_id:
            devices = devices.filter(pk=rule.device_id)
        elif rule.device_type:
            devices = devices.filter(device_type=rule.device_type)
        for device in devices:
            if evaluate_rule(rule, device, []) is not None:
                raised += 1
    return raised


hooks.register_reading_listener(on_batch)
