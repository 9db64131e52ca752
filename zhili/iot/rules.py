"""Rule kinds: pluggable evaluators behind ``Rule.kind`` (R-5.3.2-monitor).

A kind is registered once with ``register_rule_kind(code, label, evaluate)``::

    from zhili.iot.rules import Verdict, register_rule_kind

    def evaluate(rule, device, readings):
        # readings: [(ts_ms, value), ...] of rule.metric for this device in the committed
        # batch, ascending. Return Verdict(breached, value, ts, message), or None for
        # "no opinion" (e.g. nothing relevant in the batch).
        worst = max(v for _, v in readings)
        return Verdict(worst > 100, worst, readings[-1][0], f"AQI {worst:.0f}")

    register_rule_kind("aqi_category", "AQI category", evaluate)

The engine (``zhili.iot.alarms``) raises one alarm per device and rule on a breach and closes it
on recovery if the rule says ``auto_close``. Kinds with ``trigger="schedule"`` (missing data)
are evaluated by a job with ``readings=[]`` instead of per batch.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Verdict:
    """The outcome of evaluating a rule on some readings."""

    breached: bool
    value: float | None = None
    ts: int | None = None
    message: str = ""


@dataclass
class RuleKind:
    code: str
    label: object
    evaluate: object
    trigger: str = "batch"
    needs_metric: bool = True
    params: dict = field(default_factory=dict)  # name -> (type, required)


_kinds: dict[str, RuleKind] = {}


def register_rule_kind(
    code: str,
    label,
    evaluate,
    *,
    trigger: str = "batch",
    needs_metric: bool = True,
    params: dict | None = None,
) -> RuleKind:
    """Register (or replace) a rule kind; ``params`` maps parameter names to ``(type, required)``."""
    kind = RuleKind(code, label, evaluate, trigger, needs_metric, dict(params or {}))
    _kinds[code] = kind
    return kind


def get_kind(code: str) -> RuleKind | None:
    return _kinds.get(code)


def kind_choices() -> list[tuple[str, object]]:
    return [(k.code, k.label) for k in _kinds.values()]


def validate_rule(rule) -> None:
    """Raise ValidationError (per field) if the rule's kind, metric or params do not fit."""
    kind = _kinds.get(rule.kind)
    if kind is None:
        raise ValidationError({"kind": gettext("Unknown rule kind %(kind)s.") % {"kind": rule.kind}})
    if kind.needs_metric and not rule.metric_id:
        raise ValidationError({"metric": gettext("This kind of rule needs a metric.")})
    params = rule.params if isinstance(rule.params, dict) else None
    if params is None:
        raise ValidationError({"params": gettext("Parameters must be a JSON object.")})
    for name, (typ, required) in kind.params.items():
        if name not in params:
            if required:
                raise ValidationError({"params": gettext("Missing parameter %(name)s.") % {"name": name}})
            continue
        value = params[name]
        ok = (
            isinstance(value, (int, float)) and not isinstance(value, bool)
            if typ is float
            else isinstance(value, typ)
        )
        if not ok:
            raise ValidationError(
                {"params": gettext("Parameter %(name)s has the wrong type.") % {"name": name}}
            )


def _compare(value: float, op: str, limit: float) -> bool:
    return {">": value > limit, ">=": value >= limit, "<": value < limit, "<=": value <= limit}.get(op, False)


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, float | int) else str(value)


def evaluate_threshold(rule, device, readings):
    """Breach when the newest reading compares (``op``, default ``>``) with ``value``."""
    if not readings:
        return None
    op = rule.params.get("op", ">")
    limit = float(rule.params["value"])
    hits = [(ts, v) for ts, v in readings if _compare(v, op, limit)]
    if hits:
        ts, v = max(hits, key=lambda r: r[1] if op.startswith(">") else -r[1])
        return Verdict(
            True,
            v,
            ts,
            gettext("%(metric)s %(value)s %(op)s %(limit)s")
            % {"metric": rule.metric.name, "value": _fmt(v), "op": op, "limit": _fmt(limit)},
        )
    ts, v = readings[-1]
    return Verdict(False, v, ts)


def evaluate_threshold_duration(rule, device, readings):
    """Breach when every reading of the last ``duration_s`` seconds breaches the threshold and
    the readings cover that whole window (so a single spike does not count)."""
    if not readings:
        return None
    from zhili.iot import store

    op = rule.params.get("op", ">")
    limit = float(rule.params["value"])
    duration_ms = int(float(rule.params["duration_s"]) * 1000)
    end = readings[-1][0]
    window = store.series_raw(device.pk, rule.metric_id, end - duration_ms, end)
    if not window or not all(_compare(v, op, limit) for _, v in window):
        return Verdict(False, readings[-1][1], end)
    # The window is covered when the reading before it (or at its start) breached too.
    before = store.value_before(device.pk, rule.metric_id, end - duration_ms)
    covered = window[0][0] <= end - duration_ms or (before is not None and _compare(before[1], op, limit))
    if not covered:
        return None
    return Verdict(
        True,
        readings[-1][1],
        end,
        gettext("%(metric)s %(op)s %(limit)s for %(minutes)s min")
        % {"metric": rule.metric.name, "op": op, "limit": _fmt(limit), "minutes": _fmt(duration_ms / 60000)},
    )


def evaluate_rate_of_change(rule, device, readings):
    """Breach when the value changes faster than ``max_per_minute`` (absolute) between readings."""
    if not readings:
        return None
    from zhili.iot import store

    limit = float(rule.params["max_per_minute"])
    previous = store.value_before(device.pk, rule.metric_id, readings[0][0])
    points = ([previous] if previous else []) + list(readings)
    worst = None
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if t1 <= t0:
            continue
        rate = abs(v1 - v0) / ((t1 - t0) / 60000)
        if worst is None or rate > worst[0]:
            worst = (rate, t1, v1)
    if worst is None:
        return None
    rate, ts, value = worst
    if rate > limit:
        return Verdict(
            True,
            value,
            ts,
            gettext("%(metric)s changes %(rate)s per minute (limit %(limit)s)")
            % {"metric": rule.metric.name, "rate": f"{rate:.3g}", "limit": _fmt(limit)},
        )
    return Verdict(False, value, ts)


def is_daytime(ts_ms: int, params: dict) -> bool:
    """Return True if ``ts_ms`` falls in the day period (local time; GB 3096: 06:00–22:00)."""
    local = timezone.localtime(datetime.fromtimestamp(ts_ms / 1000, tz=UTC))
    minutes = local.hour * 60 + local.minute
    start = _hm(params.get("day_start", "06:00"))
    end = _hm(params.get("day_end", "22:00"))
    return start <= minutes < end


def _hm(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    return int(hours) * 60 + int(minutes or 0)


def evaluate_day_night(rule, device, readings):
    """Noise limits by time of day (GB 12523-2011): ``day_limit`` by day, ``night_limit`` by
    night; for the L_Amax metric (``max_above_night`` set) night values may exceed the night
    limit by at most that many dB(A)."""
    if not readings:
        return None
    p = rule.params
    worst = None
    for ts, v in readings:
        day = is_daytime(ts, p)
        if "max_above_night" in p:
            if day:
                continue
            limit = float(p["night_limit"]) + float(p["max_above_night"])
        else:
            limit = float(p["day_limit"] if day else p["night_limit"])
        excess = v - limit
        if worst is None or excess > worst[0]:
            worst = (excess, ts, v, limit, day)
    if worst is None:
        return None
    excess, ts, v, limit, day = worst
    if excess > 0:
        period = gettext("day") if day else gettext("night")
        return Verdict(
            True,
            v,
            ts,
            gettext("%(metric)s %(value)s above the %(period)s limit %(limit)s")
            % {"metric": rule.metric.name, "value": _fmt(v), "period": period, "limit": _fmt(limit)},
        )
    return Verdict(False, v, ts)


def evaluate_missing_data(rule, device, readings):
    """Breach when the device (or ``rule.metric`` of it) sent nothing for ``after_s`` seconds."""
    from zhili.iot import store

    after_ms = int(float(rule.params["after_s"]) * 1000)
    now = int(timezone.now().timestamp() * 1000)
    if rule.metric_id:
        last = store.latest_ts(device.pk, rule.metric_id)
    else:
        last = int(device.last_seen_at.timestamp() * 1000) if device.last_seen_at else None
    if last is None:
        last = int(device.created_at.timestamp() * 1000)
    silent = now - last
    if silent > after_ms:
        return Verdict(
            True, silent / 1000, now, gettext("No data for %(minutes)s min") % {"minutes": silent // 60000}
        )
    return Verdict(False, silent / 1000, now)


OPS = {"op": (str, False), "value": (float, True)}
register_rule_kind("threshold", _("Threshold"), evaluate_threshold, params=OPS)
register_rule_kind(
    "threshold_duration",
    _("Threshold held for a duration"),
    evaluate_threshold_duration,
    params={**OPS, "duration_s": (float, True)},
)
register_rule_kind(
    "rate_of_change", _("Rate of change"), evaluate_rate_of_change, params={"max_per_minute": (float, True)}
)
register_rule_kind(
    "missing_data",
    _("Missing data (device offline)"),
    evaluate_missing_data,
    trigger="schedule",
    needs_metric=False,
    params={"after_s": (float, True)},
)
register_rule_kind(
    "day_night",
    _("Day/night limits (GB 12523-2011)"),
    evaluate_day_night,
    params={
        "day_limit": (float, False),
        "night_limit": (float, True),
        "max_above_night": (float, False),
        "day_start": (str, False),
        "day_end": (str, False),
    },
)
