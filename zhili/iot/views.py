"""IoT pages: live alarm board (SSE), device map, device detail with series, credentials,
rules as JSON files, and the HTTP ingestion endpoint for devices without MQTT."""

import json
import logging
import threading
import time
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhili.core.audit import emit
from zhili.core.changes import record_change, snapshot
from zhili.core.models import ChangeAction
from zhili.core.permissions import get_in_scope, has_action, require_action, restrict
from zhili.core.registry import registry
from zhili.core.sse import event_stream
from zhili.core.views.generic import ObjectDetailView
from zhili.iot import alarms as engine
from zhili.iot import credentials, store
from zhili.iot.choices import AlarmStatus
from zhili.iot.models import Alarm, Device, DeviceCredential, Metric, Rule

SSE_SECONDS = 25
logger = logging.getLogger("zhili.iot")


# -- alarms ------------------------------------------------------------------------------------
def alarm_json(alarm) -> dict:
    point = alarm.device.geometry
    return {
        "id": alarm.pk,
        "device": alarm.device.code,
        "device_name": alarm.device.name,
        "lon": point.x if point is not None else None,
        "lat": point.y if point is not None else None,
        "rule": alarm.rule.name,
        "severity": alarm.severity,
        "severity_label": alarm.get_severity_display(),
        "status": alarm.status,
        "status_label": alarm.get_status_display(),
        "message": alarm.message,
        "value": alarm.value,
        "raised_at": timezone.localtime(alarm.raised_at).strftime("%Y-%m-%d %H:%M:%S"),
        "escalation_level": alarm.escalation_level,
        "url": reverse("iot:alarm_detail", args=[alarm.pk]),
        "updated": alarm.updated_at.isoformat(),
    }


def _alarms_since(user, since):
    qs = (
        restrict(Alarm.objects.all(), user, "view")
        .select_related("device", "rule")
        .order_by("updated_at", "pk")
    )
    if since is not None:
        qs = qs.filter(updated_at__gt=since)
    else:
        qs = qs.exclude(status=AlarmStatus.CLOSED)
    return list(qs[:200])


def _cursor(request):
    raw = request.headers.get("Last-Event-ID") or request.GET.get("since") or ""
    value = parse_datetime(raw) if raw else None
    return value if value is not None and value.tzinfo is not None else None


@require_GET
def alarm_board(request):
    """The live alarm page: open alarms now, new ones and changes pushed over SSE."""
    require_action(request.user, Alarm, "view")
    open_alarms = _alarms_since(request.user, None)
    return render(
        request,
        "iot/alarm_board.html",
        {
            "alarms": [alarm_json(a) for a in reversed(open_alarms)],
            "cursor": timezone.now().isoformat(),
            "can_ack": has_action(request.user, Alarm, "acknowledge"),
        },
    )


@require_GET
def alarm_stream(request):
    """Server-sent events of alarm changes for ``SSE_SECONDS``, then the browser reconnects with
    ``Last-Event-ID`` (a bounded stream keeps waitress threads free).

    Streams hold a server thread each, so ``zhili.core.sse.event_stream`` lets a worker stream on
    only some of its threads: when they are all taken, the answer is one ``busy`` event and the
    page polls ``alarm_feed`` instead.
    """
    require_action(request.user, Alarm, "view")
    user = request.user
    cursor = _cursor(request) or timezone.now()
    try:
        seconds = min(float(request.GET.get("seconds", SSE_SECONDS) or SSE_SECONDS), SSE_SECONDS)
    except ValueError:
        return JsonResponse({"seconds": [_("A number is required.")]}, status=400)

    def events():
        nonlocal cursor
        yield "retry: 1000\n\n"
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                changed = _alarms_since(user, cursor)
            except DatabaseError:  # a transient database error must not end the stream
                logger.warning("alarm stream: query failed; retrying", exc_info=True)
                changed = []
            for alarm in changed:
                cursor = max(cursor, alarm.updated_at)
                data = json.dumps(alarm_json(alarm), ensure_ascii=False)
                yield f"id: {alarm.updated_at.isoformat()}\nevent: alarm\ndata: {data}\n\n"
            yield ": keep-alive\n\n"
            time.sleep(0.5)

    return event_stream(events())


@require_GET
def alarm_feed(request):
    """Polling fallback of the stream: alarm changes after ``since`` as JSON."""
    require_action(request.user, Alarm, "view")
    alarms = _alarms_since(request.user, _cursor(request))
    cursor = max([a.updated_at for a in alarms], default=_cursor(request) or timezone.now())
    return JsonResponse({"alarms": [alarm_json(a) for a in alarms], "cursor": cursor.isoformat()})


def _back(request, alarm):
    target = request.POST.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else alarm.get_absolute_url()
    )


@require_POST
def alarm_acknowledge(request, pk):
    require_action(request.user, Alarm, "acknowledge")
    alarm = get_in_scope(Alarm, request.user, pk, "acknowledge")
    try:
        engine.acknowledge(alarm, request.user)
        messages.success(request, _("Alarm acknowledged."))
    except ValueError as exc:
        messages.error(request, str(exc))
    return _back(request, alarm)


@require_POST
def alarm_close(request, pk):
    require_action(request.user, Alarm, "acknowledge")
    alarm = get_in_scope(Alarm, request.user, pk, "acknowledge")
    try:
        engine.close(alarm, request.user, request.POST.get("note", "").strip())
        messages.success(request, _("Alarm closed."))
    except ValueError as exc:
        messages.error(request, str(exc))
    return _back(request, alarm)


@require_POST
def alarm_open_case(request, pk):
    require_action(request.user, Alarm, "open_case")
    alarm = get_in_scope(Alarm, request.user, pk, "open_case")
    try:
        engine.open_case_for_alarm(alarm, request.user)
        messages.success(request, _("A case was opened for this alarm."))
    except LookupError as exc:
        messages.error(request, str(exc))
    except (ValidationError, ValueError) as exc:
        messages.error(request, _("The case could not be opened: %(error)s") % {"error": exc})
    return _back(request, alarm)


class AlarmDetailView(ObjectDetailView):
    template_name = "iot/alarm_detail.html"

    def context(self, **extra):
        ctx = super().context(**extra)
        user = self.request.user
        ctx["can_ack"] = has_action(user, Alarm, "acknowledge")
        ctx["can_open_case"] = has_action(user, Alarm, "open_case")
        ctx["case_url"] = _case_url(extra.get("object"))
        return ctx


def _case_url(alarm):
    if alarm is None or not alarm.case_id:
        return ""
    try:
        return reverse("cases:case_detail", args=[alarm.case_id])
    except Exception:
        return ""


# -- devices -----------------------------------------------------------------------------------
class DeviceDetailView(ObjectDetailView):
    template_name = "iot/device_detail.html"

    def context(self, **extra):
        ctx = super().context(**extra)
        device = extra.get("object")
        if device is None:
            return ctx
        user = self.request.user
        latest = store.latest([device.pk])
        by_code = {m.code: m for m in Metric.objects.all()}
        ctx["latest"] = [
            (by_code[code], point.value, point.time)
            for (_, code), point in sorted(latest.items())
            if code in by_code
        ]
        ctx["series_url"] = reverse("iot:device_series", args=[device.pk])
        ctx["can_manage"] = has_action(user, Device, "manage_credentials", device)
        ctx["credentials"] = device.credentials.all()[:20] if ctx["can_manage"] else []
        ctx["open_alarms"] = device.alarms.exclude(status=AlarmStatus.CLOSED).select_related("rule")[:20]
        ctx["dead_letters"] = device.dead_letters.order_by("-received_at")[:10]
        return ctx


@require_GET
def device_series(request, pk):
    """JSON series of one device: ``?metric=pm25&hours=24&resolution=raw|hour|day``."""
    require_action(request.user, Device, "view")
    device = get_in_scope(Device, request.user, pk)
    try:
        hours = max(1, min(int(request.GET.get("hours", "24")), 24 * 400))
    except ValueError:
        return JsonResponse({"error": _("hours must be a whole number")}, status=400)
    resolution = request.GET.get("resolution") or (
        "raw" if hours <= 48 else "hour" if hours <= 24 * 31 else "day"
    )
    if resolution not in ("raw", "hour", "day"):
        return JsonResponse({"error": _("resolution must be raw, hour or day")}, status=400)
    codes = request.GET.getlist("metric") or sorted(device.declared_metric_codes())
    end = timezone.now()
    data = store.series(
        [device.pk], codes, end - timedelta(hours=hours), end + timedelta(minutes=5), resolution
    )
    units = dict(Metric.objects.filter(code__in=codes).values_list("code", "unit"))
    return JsonResponse(
        {
            "device": device.code,
            "resolution": resolution,
            "series": [
                {
                    "metric": code,
                    "unit": units.get(code, ""),
                    "points": [[p.ts, p.value, p.minimum, p.maximum] for p in pts],
                }
                for (_, code), pts in sorted(data.items())
            ],
        }
    )


@require_GET
def device_map(request):
    require_action(request.user, Device, "view")
    return render(request, "iot/device_map.html", {"cursor": timezone.now().isoformat()})


@require_GET
def device_geojson(request):
    """Devices as GeoJSON points with status, latest values and the worst open alarm."""
    require_action(request.user, Device, "view")
    devices = list(
        restrict(Device.objects.all(), request.user, "view").exclude(geometry=None).exclude(geometry="")
    )
    latest = store.latest([d.pk for d in devices]) if devices else {}
    values = {}
    for (device_id, code), point in latest.items():
        values.setdefault(device_id, {})[code] = round(point.value, 2)
    worst = {}
    rank = {"info": 0, "minor": 1, "major": 2, "critical": 3}
    for device_id, severity in Alarm.objects.exclude(status=AlarmStatus.CLOSED).values_list(
        "device_id", "severity"
    ):
        if rank.get(severity, 0) >= rank.get(worst.get(device_id, ""), -1):
            worst[device_id] = severity
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [d.geometry.x, d.geometry.y]},
            "properties": {
                "id": d.pk,
                "code": d.code,
                "name": d.name,
                "type": d.get_device_type_display(),
                "status": d.status,
                "status_label": d.get_status_display(),
                "alarm": worst.get(d.pk, ""),
                "values": values.get(d.pk, {}),
                "url": d.get_absolute_url(),
            },
        }
        for d in devices
        if d.geometry is not None and d.geometry.geom_type == "Point"
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


# -- credentials -------------------------------------------------------------------------------
@require_POST
def credential_issue(request, pk):
    """Issue (``rotate=0``) or rotate (``rotate=1``) a device credential; show the secrets once."""
    require_action(request.user, Device, "manage_credentials")
    device = get_in_scope(Device, request.user, pk, "manage_credentials")
    if request.POST.get("rotate") == "1":
        try:
            grace = float(request.POST.get("grace_hours", "24"))
        except ValueError:
            grace = 24.0
        issued = credentials.rotate_credentials(
            device, user=request.user, grace_hours=max(0.0, min(grace, 720.0))
        )
    else:
        issued = credentials.issue_credential(device, user=request.user)
    prefix = store.iot_setting("IOT_TOPIC_PREFIX", "zhili")
    response = render(
        request,
        "iot/credential_issued.html",
        {"device": device, "issued": issued, "topic": f"{prefix}/{device.code}/telemetry"},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def credential_revoke(request, pk):
    require_action(request.user, Device, "manage_credentials")
    cred = get_in_scope(DeviceCredential, request.user, pk, "view")
    get_in_scope(Device, request.user, cred.device_id, "manage_credentials")
    credentials.revoke_credential(cred, user=request.user)
    messages.success(request, _("Credential %(key)s revoked.") % {"key": cred.key_id})
    return redirect(cred.device.get_absolute_url())


# -- rules as files ----------------------------------------------------------------------------
RULE_FIELDS = (
    "code",
    "name",
    "kind",
    "device_type",
    "params",
    "severity",
    "enabled",
    "auto_close",
    "open_case",
    "case_category",
    "escalate_after_minutes",
    "description",
)


def rule_to_dict(rule) -> dict:
    data = {f: getattr(rule, f) for f in RULE_FIELDS}
    data["metric"] = rule.metric.code if rule.metric_id else None
    data["device"] = rule.device.code if rule.device_id else None
    return data


@require_GET
def rules_export(request):
    """All rules the user may export, as a JSON file (re-importable)."""
    require_action(request.user, Rule, "export")
    rules = (
        restrict(Rule.objects.all(), request.user, "export")
        .select_related("metric", "device")
        .order_by("code")
    )
    body = {"format": "zhili.iot.rules", "version": 1, "rules": [rule_to_dict(r) for r in rules]}
    emit(
        "data.export",
        user=request.user,
        details={"model": "iot.rule", "format": "json", "rows": len(body["rules"])},
    )
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="zhili-iot-rules.json"'
    return response


def import_rules(data, user) -> tuple[int, int, list[str]]:
    """Create or update rules from an exported document, all or nothing.

    Return (created, updated, errors); on any error nothing is saved.
    """
    if (
        not isinstance(data, dict)
        or data.get("format") != "zhili.iot.rules"
        or not isinstance(data.get("rules"), list)
    ):
        return 0, 0, [_("Not a Zhili rules file (format zhili.iot.rules expected).")]
    errors, prepared = [], []
    metrics = {m.code: m for m in Metric.objects.all()}
    for index, item in enumerate(data["rules"], start=1):
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            errors.append(_("Rule %(n)d: an object with a code is required.") % {"n": index})
            continue
        rule = Rule.objects.filter(code=item["code"]).first()
        created = rule is None
        before = None if created else snapshot(rule)
        rule = rule or Rule(code=item["code"])
        for f in RULE_FIELDS:
            if f in item and f != "code":
                setattr(rule, f, item[f] if item[f] is not None or f == "escalate_after_minutes" else "")
        metric_code = item.get("metric")
        rule.metric = metrics.get(metric_code) if metric_code else None
        if metric_code and rule.metric is None:
            errors.append(
                _("Rule %(code)s: unknown metric %(metric)s.") % {"code": item["code"], "metric": metric_code}
            )
            continue
        device_code = item.get("device")
        rule.device = Device.objects.filter(code=device_code).first() if device_code else None
        if device_code and rule.device is None:
            errors.append(
                _("Rule %(code)s: unknown device %(device)s.") % {"code": item["code"], "device": device_code}
            )
            continue
        try:
            rule.full_clean()
        except ValidationError as exc:
            text = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            errors.append(_("Rule %(code)s: %(errors)s") % {"code": item["code"], "errors": text})
            continue
        prepared.append((rule, created, before))
    if errors:
        return 0, 0, errors
    created_n = updated_n = 0
    with transaction.atomic():
        for rule, created, before in prepared:
            if created:
                rule.created_by = user
                rule.data_source = "import"
            rule.updated_by = user
            rule.save()
            record_change(
                rule,
                ChangeAction.CREATE if created else ChangeAction.UPDATE,
                user=user,
                prechange=before,
                message=_("Imported from a rules file"),
            )
            created_n += created
            updated_n += not created
    engine.rules_cache.invalidate()
    emit("data.import", user=user, details={"model": "iot.rule", "created": created_n, "updated": updated_n})
    return created_n, updated_n, []


@require_http_methods(["GET", "POST"])
def rules_import(request):
    require_action(request.user, Rule, "import")
    require_action(request.user, Rule, "change")
    errors = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("Choose a JSON file.")]
        elif upload.size > 5 * 1024 * 1024:
            errors = [_("The file is too large (5 MB at most).")]
        else:
            try:
                data = json.loads(upload.read().decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                errors = [_("The file is not valid UTF-8 JSON.")]
            else:
                created, updated, errors = import_rules(data, request.user)
                if not errors:
                    messages.success(
                        request, _("%(c)d rules created, %(u)d updated.") % {"c": created, "u": updated}
                    )
                    return redirect("iot:rule_list")
    entry = registry.get(Rule)
    return render(
        request, "iot/rules_import.html", {"errors": errors, "entry": entry}, status=400 if errors else 200
    )


# -- HTTP ingestion ----------------------------------------------------------------------------
_http_ingestor = None
_http_lock = threading.Lock()


def http_ingestor():
    global _http_ingestor
    if _http_ingestor is None:
        from zhili.iot.ingest import Ingestor

        _http_ingestor = Ingestor(channel="http")
    return _http_ingestor


@csrf_exempt
@login_not_required
@require_POST
def http_ingest(request, code):
    """Telemetry over HTTP for devices without MQTT: same payloads and rules as MQTT.

    Authenticate with ``Authorization: Device <key_id>.<secret>`` or a ``token``/``sig`` in the
    payload; never with a session. Answers 200 with counts, 401/403 for identity failures,
    422 when every reading was rejected, 429 when rate-limited.
    """
    raw = request.body
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Device "):
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            payload = None
        if isinstance(payload, dict) and "token" not in payload:
            payload["token"] = auth[len("Device ") :].strip()
            raw = json.dumps(payload).encode()
    with _http_lock:
        result = http_ingestor().process([(code, raw)])
    body = {
        "stored": result.stored,
        "duplicates": result.duplicates,
        "rejected": [{"reason": reason, "detail": detail} for _, reason, detail in result.errors],
    }
    reasons = set(result.rejected)
    if reasons & {"bad_credential", "bad_signature", "unknown_device"}:
        status = 401
    elif reasons & {"revoked", "topic_mismatch"}:
        status = 403
    elif "rate_limited" in reasons:
        status = 429
    elif result.rejected and not result.stored and not result.duplicates:
        status = 422 if "malformed" not in reasons else 400
    else:
        status = 200
    return JsonResponse(body, status=status)
