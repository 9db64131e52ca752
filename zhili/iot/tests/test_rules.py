"""Rule kinds and the alarm lifecycle (R-5.3.2-monitor, R-5.1-fusion)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from zhili.core import notices
from zhili.iot import alarms, store
from zhili.iot.models import Alarm, Device
from zhili.iot.rules import Verdict, register_rule_kind
from zhili.iot.tests.factories import make_device, make_rule

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.req("R-5.3.2-monitor")]


def at(hour, minute=0, day=1):
    """Unix ms of a Beijing local time on 2026-03-<day>."""
    return int((datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)).timestamp() * 1000)


def open_alarms(device):
    return list(Alarm.objects.filter(device=device).exclude(status="closed"))


@pytest.fixture
def sent():
    captured = []
    notices.add_sink(captured.append)
    yield captured
    notices._sinks.remove(captured.append)


def test_threshold_raises_one_alarm_per_device_and_rule(sent, django_user_model):
    handler = django_user_model.objects.create_superuser("handler", password="x")
    rule = make_rule("threshold", params={"op": ">", "value": 75}, severity="major")
    d = make_device()
    store.write_readings([(d.pk, "pm25", at(8), 50.0)])
    assert open_alarms(d) == []
    store.write_readings([(d.pk, "pm25", at(9), 120.0)])
    store.write_readings([(d.pk, "pm25", at(10), 130.0)])  # still high: same alarm, one more breach
    [alarm] = open_alarms(d)
    assert (
        alarm.rule == rule and alarm.severity == "major" and alarm.value == 130.0 and alarm.breach_count == 2
    )
    assert "75" in alarm.message
    assert [n["category"] for n in sent] == ["iot.alarm"]
    assert handler in sent[0]["recipients"] and sent[0]["level"] == "danger"
    # Lifecycle: raised → acknowledged → closed, with who and when.
    alarms.acknowledge(alarm, handler)
    with pytest.raises(alarms.AlarmStateError):
        alarms.acknowledge(Alarm.objects.get(pk=alarm.pk), handler)
    closed = alarms.close(Alarm.objects.get(pk=alarm.pk), handler, "已处置")
    assert (closed.status, closed.acknowledged_by, closed.closed_by, closed.close_note) == (
        "closed",
        handler,
        handler,
        "已处置",
    )
    assert closed.acknowledged_at <= closed.closed_at
    # After closing, a new breach raises a new alarm.
    store.write_readings([(d.pk, "pm25", at(11), 140.0)])
    assert len(open_alarms(d)) == 1 and Alarm.objects.filter(device=d).count() == 2


def test_rule_for_other_device_type_or_metric_does_not_fire():
    make_rule("threshold", params={"op": ">", "value": 75})
    noise = make_device("noise_meter")
    air = make_device()
    store.write_readings([(noise.pk, "noise_laeq", at(9), 99.0), (air.pk, "pm10", at(9), 900.0)])
    assert Alarm.objects.count() == 0


def test_threshold_held_for_a_duration_ignores_spikes():
    make_rule(
        "threshold_duration",
        metric="pm10",
        device_type="dust_monitor",
        params={"op": ">", "value": 150, "duration_s": 900},
    )
    d = make_device("dust_monitor")
    # A single spike: no alarm.
    store.write_readings([(d.pk, "pm10", at(9, m), v) for m, v in [(0, 100), (5, 300), (10, 100)]])
    assert open_alarms(d) == []
    # Above 150 from 10:00 for 10 minutes: not yet 15.
    store.write_readings([(d.pk, "pm10", at(10, m), 200.0) for m in range(0, 11, 5)])
    assert open_alarms(d) == []
    store.write_readings([(d.pk, "pm10", at(10, 15), 210.0)])
    [alarm] = open_alarms(d)
    assert alarm.value == 210.0


def test_rate_of_change_uses_the_previous_stored_value():
    make_rule(
        "rate_of_change",
        metric="pressure_mpa",
        device_type="pipe_pressure",
        params={"max_per_minute": 0.05},
        auto_close=True,
    )
    d = make_device("pipe_pressure")
    store.write_readings([(d.pk, "pressure_mpa", at(9, 0), 0.38)])
    store.write_readings([(d.pk, "pressure_mpa", at(9, 1), 0.36)])  # 0.02/min: fine
    assert open_alarms(d) == []
    store.write_readings([(d.pk, "pressure_mpa", at(9, 2), 0.20)])  # 0.16/min: a burst pipe
    [alarm] = open_alarms(d)
    assert alarm.value == 0.20
    store.write_readings([(d.pk, "pressure_mpa", at(9, 3), 0.20)])  # stable again: auto-closed
    assert open_alarms(d) == []
    assert Alarm.objects.get(pk=alarm.pk).close_note


@pytest.mark.parametrize(
    ("hour", "minute", "value", "fires"),
    [
        (6, 0, 70.0, False),
        (12, 0, 70.1, True),
        (21, 59, 69.0, False),
        (22, 0, 55.0, False),
        (22, 0, 55.5, True),
        (3, 0, 60.0, True),
        (5, 59, 54.0, False),
    ],
)
def test_day_night_noise_limits_gb12523(hour, minute, value, fires):
    make_rule(
        "day_night",
        metric="noise_laeq",
        device_type="noise_meter",
        params={"day_limit": 70, "night_limit": 55, "day_start": "06:00", "day_end": "22:00"},
    )
    d = make_device("noise_meter")
    store.write_readings([(d.pk, "noise_laeq", at(hour, minute), value)])
    assert bool(open_alarms(d)) is fires


@pytest.mark.parametrize(("hour", "value", "fires"), [(23, 70.0, False), (23, 70.5, True), (14, 90.0, False)])
def test_night_lmax_at_most_15_above_the_night_limit(hour, value, fires):
    make_rule(
        "day_night",
        metric="noise_lmax",
        device_type="noise_meter",
        params={"night_limit": 55, "max_above_night": 15},
    )
    d = make_device("noise_meter")
    store.write_readings([(d.pk, "noise_lmax", at(hour), value)])
    assert bool(open_alarms(d)) is fires


def test_missing_data_marks_offline_and_closes_on_return():
    from zhili.iot.jobs import update_device_status

    make_rule("missing_data", metric=None, device_type="", params={"after_s": 600}, auto_close=True)
    d = make_device("weather_station")
    now = timezone.now()
    Device.objects.filter(pk=d.pk).update(last_seen_at=now - timedelta(minutes=20), status="online")
    assert update_device_status(now) == 1
    assert Device.objects.get(pk=d.pk).status == "offline"
    assert alarms.evaluate_scheduled_rules() == 1
    assert alarms.evaluate_scheduled_rules() == 1  # still silent: the same alarm, not a new one
    [alarm] = open_alarms(d)
    assert "20" in alarm.message
    Device.objects.filter(pk=d.pk).update(last_seen_at=timezone.now(), status="online")
    alarms.evaluate_scheduled_rules()
    assert open_alarms(d) == []


def test_escalation_of_unacknowledged_alarms(sent):
    make_rule("threshold", params={"op": ">", "value": 75}, escalate_after_minutes=30)
    d = make_device()
    store.write_readings([(d.pk, "pm25", at(9), 100.0)])
    [alarm] = open_alarms(d)
    assert alarms.escalate_unacknowledged(alarm.raised_at + timedelta(minutes=29)) == 0
    assert alarms.escalate_unacknowledged(alarm.raised_at + timedelta(minutes=31)) == 1
    assert alarms.escalate_unacknowledged(alarm.raised_at + timedelta(minutes=32)) == 0  # waits another 30
    assert alarms.escalate_unacknowledged(alarm.raised_at + timedelta(minutes=62)) == 1
    assert Alarm.objects.get(pk=alarm.pk).escalation_level == 2
    assert [n["level"] for n in sent][-2:] == ["danger", "danger"]
    alarms.acknowledge(Alarm.objects.get(pk=alarm.pk), None)
    assert alarms.escalate_unacknowledged(alarm.raised_at + timedelta(hours=5)) == 0


def test_registered_rule_kinds_plug_in():
    def evaluate(rule, device, readings):
        worst = max(v for _, v in readings)
        return Verdict(worst > rule.params["limit"], worst, readings[-1][0], f"custom {worst:g}")

    register_rule_kind("test_custom_kind", "Custom", evaluate, params={"limit": (float, True)})
    make_rule("test_custom_kind", metric="o3", params={"limit": 160})
    d = make_device()
    store.write_readings([(d.pk, "o3", at(14), 150.0), (d.pk, "o3", at(15), 170.0)])
    [alarm] = open_alarms(d)
    assert alarm.message == "custom 170"


def test_rule_validation_names_the_field():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        make_rule("no_such_kind")
    assert "kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_rule("threshold", params={"op": ">"})
    assert "params" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_rule("threshold", metric=None)
    assert "metric" in exc.value.message_dict
