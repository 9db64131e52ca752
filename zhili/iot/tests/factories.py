"""Builders for IoT tests (labelled test data)."""

import itertools

from shapely.geometry import Point

from zhili.iot.catalog import seed_metrics
from zhili.iot.credentials import issue_credential
from zhili.iot.models import Device, Metric, Rule

_seq = itertools.count(1)


def ensure_metrics():
    seed_metrics(Metric)
    from zhili.iot import store

    store.metrics.invalidate()
    return {m.code: m for m in Metric.objects.all()}


def make_device(device_type="air_station", *, code=None, credential=False, **kwargs):
    ensure_metrics()
    n = next(_seq)
    device = Device.objects.create(
        code=code or f"T-{device_type[:3].upper()}-{n:04d}",
        name=kwargs.pop("name", f"测试设备{n}"),
        device_type=device_type,
        geometry=kwargs.pop("geometry", Point(119.96 + n * 0.0001, 30.27)),
        **kwargs,
    )
    if credential:
        return device, issue_credential(device)
    return device


def make_rule(
    kind="threshold", *, metric="pm25", device_type="air_station", params=None, code=None, **kwargs
):
    metrics = ensure_metrics()
    rule = Rule(
        code=code or f"t-rule-{next(_seq)}",
        name=kwargs.pop("name", f"测试规则 {kind}"),
        kind=kind,
        device_type=device_type,
        metric=metrics[metric] if metric else None,
        params=params if params is not None else {"op": ">", "value": 100},
        **kwargs,
    )
    rule.full_clean()
    rule.save()
    from zhili.iot.alarms import rules_cache

    rules_cache.invalidate()
    return rule
