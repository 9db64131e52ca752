"""Environment pages: dashboard, IOC big screen, station page, dust map, site dashboard, calculator.

Every view checks ``has_action`` on the model whose data it shows and reads through ``restrict``;
every change (recomputation, track check) is audited. Data for charts goes to static JS through
JSON endpoints or ``json_script`` blocks (strict CSP: no inline scripts).
"""

import datetime as dt

import shapely
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhili.core.audit import emit
from zhili.core.masking import mask_name
from zhili.core.permissions import can_unmask, get_in_scope, has_action, require_action, restrict
from zhili.environment import analytics, aqi, dust, tracks
from zhili.environment.forms import CalculatorForm
from zhili.environment.models import (
    ConstructionSite,
    DailyAQI,
    DustFactor,
    SiteStatus,
    SiteVisit,
    Vehicle,
    ViolationEvent,
)
from zhili.environment.spatial import LocalFrame


def _int(value, default, low, high):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def _visible_stations(user):
    from zhili.iot.models import Device

    return analytics.stations(restrict(Device.objects.all(), user, "view"))


# --------------------------------------------------------------------------- dashboards


def dashboard(request):
    require_action(request.user, DailyAQI, "view")
    today = timezone.localdate()
    return render(
        request,
        "environment/dashboard.html",
        {
            "data_url": reverse("environment:dashboard_data"),
            "year": today.year,
            "month": today.month,
            "profile": analytics.profile_code(),
            "can_recompute": has_action(request.user, DailyAQI, "add"),
        },
    )


@require_GET
def dashboard_data(request):
    """Everything the dashboard and the IOC screen draw, as one JSON document."""
    require_action(request.user, DailyAQI, "view")
    today = timezone.localdate()
    year = _int(request.GET.get("year"), today.year, 2000, 2100)
    month = _int(request.GET.get("month"), today.month, 1, 12)
    station_qs = _visible_stations(request.user)
    station_ids = list(station_qs.values_list("pk", flat=True))
    names = dict(station_qs.values_list("pk", "name"))
    live = analytics.realtime(station_ids)
    live["stations"] = [
        {"id": pk, "name": names.get(pk, str(pk)), "url": reverse("environment:station", args=[pk]), **report}
        for pk, report in live["stations"].items()
    ]
    live["stations"].sort(key=lambda s: (s["computed_aqi"] is None, -(s["computed_aqi"] or 0)))
    return JsonResponse(
        {
            "profile": analytics.profile_code(),
            "realtime": live,
            "good_days": analytics.monthly_good_days(year, month),
            "shares": analytics.yearly_shares(year),
            "ranking": analytics.ranking(today - dt.timedelta(days=30), today, station_qs),
            "attainment": analytics.attainment(year),
            "trend": analytics.trend(30, today=today),
            "categories": [
                {
                    "level": c.level,
                    "name": c.name_zh,
                    "label": str(c.label),
                    "colour": c.colour,
                    "low": c.low,
                    "high": c.high,
                }
                for c in aqi.CATEGORIES
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )


def ioc(request):
    """Operations (IOC) big screen: AQI now, trend, rankings, alarms, live device map (R-0-ioc)."""
    from zhili.iot.models import Alarm, Device
    from zhili.places.models import Division, Road

    require_action(request.user, DailyAQI, "view")
    return render(
        request,
        "environment/ioc.html",
        {
            "data_url": reverse("environment:dashboard_data"),
            "devices_url": reverse("iot:device_geojson") if has_action(request.user, Device, "view") else "",
            "alarms_url": reverse("iot:alarm_feed") if has_action(request.user, Alarm, "view") else "",
            "stream_url": reverse("iot:alarm_stream") if has_action(request.user, Alarm, "view") else "",
            "sites_url": reverse("environment:sites_geojson"),
            "base_urls": " ".join(
                reverse("dashboard:layer", args=[label])
                for label, model in (("places.division", Division), ("places.road", Road))
                if has_action(request.user, model, "view")
            ),
            "cursor": (timezone.now() - dt.timedelta(days=2)).isoformat(),
        },
    )


@require_POST
def recompute(request):
    """Recompute the daily AQI of the last N days (default 7) from the readings store."""
    require_action(request.user, DailyAQI, "add")
    days = _int(request.POST.get("days"), 7, 1, 400)
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    rows = analytics.compute_daily_aqi(first, today)
    emit(
        "environment.daily_aqi_recomputed",
        user=request.user,
        details={"first": first.isoformat(), "last": today.isoformat(), "rows": rows},
    )
    messages.success(
        request, _("Daily AQI recomputed: %(rows)d rows from %(first)s.") % {"rows": rows, "first": first}
    )
    return redirect("environment:dashboard")


# --------------------------------------------------------------------------- station page


def station(request, pk):
    """An air station or dust monitor: series, daily AQI, alarms and nearby sources (R-5.1.1)."""
    from zhili.iot import store
    from zhili.iot.models import Alarm, Device

    require_action(request.user, Device, "view")
    device = get_in_scope(Device, request.user, pk)
    now = timezone.now()
    start = now - dt.timedelta(hours=72)
    metrics = ["pm25", "pm10", "so2", "no2", "co", "o3", "wind_speed", "noise_laeq"]
    data = store.series([device.pk], metrics, start, now + dt.timedelta(hours=1), "hour")
    series = {metric: [[p.ts, round(p.value, 2)] for p in points] for (_d, metric), points in data.items()}
    alarms = []
    if has_action(request.user, Alarm, "view"):
        alarms = list(
            restrict(Alarm.objects.filter(device=device), request.user, "view")
            .select_related("rule")
            .order_by("-raised_at")[:20]
        )
    daily = list(
        DailyAQI.objects.filter(device=device, profile=analytics.profile_code()).order_by("-date")[:30]
    )
    live = analytics.realtime([device.pk]).get("stations", {}).get(device.pk)
    return render(
        request,
        "environment/station.html",
        {
            "device": device,
            "series": series,
            "alarms": alarms,
            "daily": daily,
            "live": live,
            "nearby": nearby_sources(device, request.user),
        },
    )


def nearby_sources(device, user, radius_m: float = 1000) -> dict:
    """Construction sites, busy roads and muck trucks near a station, nearest first."""
    from zhili.iot import store
    from zhili.places.models import Road

    if device.geometry is None:
        return {"sites": [], "roads": [], "trucks": []}
    frame = LocalFrame(device.geometry.x, device.geometry.y)
    here = shapely.Point(0, 0)
    out = {"sites": [], "roads": [], "trucks": [], "radius_m": radius_m}
    if has_action(user, ConstructionSite, "view"):
        for site in restrict(ConstructionSite.objects.exclude(status=SiteStatus.FINISHED), user, "view"):
            if site.geometry is not None:
                d = frame.to_m(site.geometry).distance(here)
                if d <= radius_m:
                    out["sites"].append({"obj": site, "distance": round(d)})
    if has_action(user, Road, "view"):
        for road in restrict(Road.objects.filter(road_class__in=dust.BUSY_ROAD_CLASSES), user, "view"):
            if road.geometry is not None:
                d = frame.to_m(road.geometry).distance(here)
                if d <= radius_m / 2:
                    out["roads"].append({"obj": road, "distance": round(d)})
    if has_action(user, Vehicle, "view"):
        trucks = list(
            restrict(Vehicle.objects.filter(kind="muck_truck", gps_device__isnull=False), user, "view")
        )
        latest = store.latest([t.gps_device_id for t in trucks], ["lon", "lat"]) if trucks else {}
        hour_ago = int((timezone.now() - dt.timedelta(hours=1)).timestamp() * 1000)
        for truck in trucks:
            lon, lat = latest.get((truck.gps_device_id, "lon")), latest.get((truck.gps_device_id, "lat"))
            if lon and lat and min(lon.ts, lat.ts) >= hour_ago:
                x, y = frame.xy(lon.value, lat.value)
                d = float((x**2 + y**2) ** 0.5)
                if d <= radius_m:
                    out["trucks"].append({"obj": truck, "distance": round(d)})
    for key in ("sites", "roads", "trucks"):
        out[key].sort(key=lambda item: item["distance"])
    return out


# --------------------------------------------------------------------------- dust analysis


def dust_map(request):
    require_action(request.user, DustFactor, "view")
    return render(
        request,
        "environment/dust_map.html",
        {
            "surface_url": reverse("environment:dust_surface"),
            "why_url": reverse("environment:dust_why"),
            "sites_url": reverse("environment:sites_geojson"),
            "factors": dust.factor_specs(),
        },
    )


@require_GET
def dust_surface(request):
    """Gridded dust scores, affected areas above ``level`` and per-monitor scores (R-5.1.5)."""
    require_action(request.user, DustFactor, "view")
    cell = _int(request.GET.get("cell"), 200, 50, 2000)
    level = _int(request.GET.get("level"), 60, 0, 100)
    result = dust.surface(cell_m=cell, level=level)
    result["monitors"] = dust.monitor_scores()
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False})


@require_GET
def dust_why(request):
    """The score of one place and which factors made it (value, grade score, weight, share)."""
    require_action(request.user, DustFactor, "view")
    try:
        lon = float(request.GET["lon"])
        lat = float(request.GET["lat"])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError
    except (KeyError, ValueError):
        return JsonResponse({"lon": [_("Give lon and lat in degrees.")]}, status=400)
    return JsonResponse(dust.score_at(lon, lat), json_dumps_params={"ensure_ascii": False})


# --------------------------------------------------------------------------- sites


@require_GET
def sites_geojson(request):
    """Construction sites (boundary, status, open violations) for the maps."""
    require_action(request.user, ConstructionSite, "view")
    sites = restrict(ConstructionSite.objects.all(), request.user, "view")
    open_counts = {}
    for site_id in ViolationEvent.objects.filter(status__in=("open", "warned")).values_list(
        "site_id", flat=True
    ):
        open_counts[site_id] = open_counts.get(site_id, 0) + 1
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(site.geometry),
            "properties": {
                "id": site.pk,
                "name": site.name,
                "status": site.status,
                "status_label": site.get_status_display(),
                "open_violations": open_counts.get(site.pk, 0),
                "url": reverse("environment:site_dashboard", args=[site.pk]),
            },
        }
        for site in sites
        if site.geometry is not None
    ]
    return JsonResponse(
        {"type": "FeatureCollection", "features": features}, json_dumps_params={"ensure_ascii": False}
    )


def sites_overview(request):
    """Site supervision: every visible site with its devices, open violations and today's visits."""
    require_action(request.user, ConstructionSite, "view")
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    sites = list(
        restrict(ConstructionSite.objects.exclude(status=SiteStatus.FINISHED), request.user, "view").order_by(
            "code"
        )
    )
    open_counts, visit_counts = {}, {}
    for site_id in ViolationEvent.objects.filter(site__in=sites, status__in=("open", "warned")).values_list(
        "site_id", flat=True
    ):
        open_counts[site_id] = open_counts.get(site_id, 0) + 1
    for site_id in SiteVisit.objects.filter(site__in=sites, entered_at__gte=today_start).values_list(
        "site_id", flat=True
    ):
        visit_counts[site_id] = visit_counts.get(site_id, 0) + 1
    rows = [
        {
            "site": s,
            "devices": s.devices.count(),
            "open": open_counts.get(s.pk, 0),
            "visits": visit_counts.get(s.pk, 0),
        }
        for s in sites
    ]
    return render(
        request, "environment/sites.html", {"rows": rows, "sites_url": reverse("environment:sites_geojson")}
    )


def site_dashboard(request, pk):
    """One site: devices with their latest values against the limits, cameras, violations,
    vehicles and their visits (R-5.4.1–5.4.3)."""
    from zhili.iot import store

    require_action(request.user, ConstructionSite, "view")
    site = get_in_scope(ConstructionSite, request.user, pk)
    devices = list(restrict(site.devices.all(), request.user, "view"))
    latest = store.latest([d.pk for d in devices]) if devices else {}
    now_local = timezone.localtime()
    night = now_local.hour >= 22 or now_local.hour < 6
    noise_limit = site.noise_night_limit if night else site.noise_day_limit
    rows = []
    for device in devices:
        values = []
        for (device_id, metric), point in sorted(latest.items()):
            if device_id != device.pk:
                continue
            limit = None
            if metric == "noise_laeq":
                limit = noise_limit
            elif metric == "noise_lmax" and night:
                limit = site.noise_night_limit + site.night_lmax_excess
            elif metric == "pm10":
                limit = site.pm10_limit
            values.append(
                {
                    "metric": metric,
                    "value": round(point.value, 2),
                    "limit": limit,
                    "over": limit is not None and point.value > limit,
                    "time": point.time,
                }
            )
        rows.append({"device": device, "values": values})
    violations = (
        restrict(ViolationEvent.objects.filter(site=site), request.user, "view")
        .select_related("vehicle", "camera")
        .order_by("-occurred_at")[:30]
    )
    visits = (
        restrict(SiteVisit.objects.filter(site=site), request.user, "view")
        .select_related("vehicle")
        .order_by("-entered_at")[:30]
    )
    unmask = can_unmask(request.user, Vehicle)
    vehicles = list(restrict(Vehicle.objects.filter(site=site), request.user, "view").select_related("route"))
    for vehicle in vehicles:
        vehicle.driver_display = vehicle.driver if unmask else mask_name(vehicle.driver or "")
    return render(
        request,
        "environment/site_dashboard.html",
        {
            "site": site,
            "devices": rows,
            "night": night,
            "noise_limit": noise_limit,
            "cameras": restrict(site.cameras.all(), request.user, "view"),
            "violations": violations,
            "visits": visits,
            "vehicles": vehicles,
            "routes": site.routes.all(),
            "geometry": shapely.to_geojson(site.geometry) if site.geometry is not None else None,
            "can_check": has_action(request.user, SiteVisit, "add"),
        },
    )


@require_POST
def site_check_tracks(request, pk):
    """Attribute the last 24 h of the site's vehicles' GPS tracks and check their routes."""
    require_action(request.user, SiteVisit, "add")
    site = get_in_scope(ConstructionSite, request.user, pk)
    end = timezone.now()
    start = end - dt.timedelta(hours=_int(request.POST.get("hours"), 24, 1, 24 * 31))
    summaries = [
        tracks.check_vehicle(v, start, end, request.user)
        for v in restrict(Vehicle.objects.filter(site=site), request.user, "view")
    ]
    visits = sum(len(s["visits"]) for s in summaries)
    violations = sum(1 for s in summaries if s["violation"])
    emit(
        "environment.tracks_checked",
        user=request.user,
        obj=site,
        details={"vehicles": len(summaries), "visits": visits, "violations": violations},
    )
    messages.success(
        request,
        _("Checked %(vehicles)d vehicles: %(visits)d site visits, %(violations)d route violations.")
        % {"vehicles": len(summaries), "visits": visits, "violations": violations},
    )
    return redirect("environment:site_dashboard", pk=site.pk)


# --------------------------------------------------------------------------- calculator page


def calculator(request):
    """A form around the AQI engine for staff (the same computation as the REST endpoint)."""
    form = CalculatorForm(request.GET or None)
    report = None
    if request.GET and form.is_valid():
        report = form.report()
    return render(request, "environment/calculator.html", {"form": form, "report": report})
