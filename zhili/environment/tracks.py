"""GPS tracks of site vehicles: site attribution by geofence and dwell time, route compliance (R-5.4.3).

Tracks come through the IoT ingestion like any reading: a ``vehicle_gps`` device sends the
metrics ``lon`` and ``lat`` (degrees, CGCS2000) with the same timestamp. :func:`track` pairs them.

* :func:`site_visits` — a visit is a maximal run of consecutive fixes inside a site's boundary
  that lasted at least the site's dwell time (a truck driving past does not count).
* :func:`route_check` — the farthest distance of the fixes outside every site from the vehicle's
  allowed route; beyond the route's tolerance the trip is non-compliant.
* :func:`check_vehicle` stores the visits and raises a ``route_deviation`` violation (with an
  audit event and a notice) the first time a vehicle leaves its route in the checked period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
from django.db import transaction
from django.utils.translation import gettext as _

from zhili.environment.spatial import LocalFrame


@dataclass(frozen=True)
class Fix:
    ts: int  # Unix ms
    lon: float
    lat: float

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.ts / 1000, tz=dt.UTC)


@dataclass
class Visit:
    site_id: int
    entered: Fix
    left: Fix

    @property
    def dwell_minutes(self) -> float:
        return (self.left.ts - self.entered.ts) / 60000


def track(device_id: int, start, end) -> list[Fix]:
    """The vehicle's fixes from the store: ``lon`` and ``lat`` readings paired by timestamp."""
    from zhili.iot import store

    data = store.series([device_id], ["lon", "lat"], start, end, "raw")
    lats = {p.ts: p.value for p in data.get((device_id, "lat"), [])}
    return [Fix(p.ts, p.value, lats[p.ts]) for p in data.get((device_id, "lon"), []) if p.ts in lats]


def site_visits(fixes: list[Fix], sites: list[tuple[int, object, float]]) -> list[Visit]:
    """Visits of a track; ``sites`` is ``[(site_id, boundary geometry, dwell minutes), ...]``."""
    if not fixes:
        return []
    points = shapely.points([(f.lon, f.lat) for f in fixes])
    visits = []
    for site_id, boundary, dwell in sites:
        shapely.prepare(boundary)
        inside = shapely.contains_xy(
            boundary, [f.lon for f in fixes], [f.lat for f in fixes]
        ) | shapely.touches(boundary, points)
        run_start = None
        for i, flag in enumerate(list(inside) + [False]):
            if flag and run_start is None:
                run_start = i
            elif not flag and run_start is not None:
                visit = Visit(site_id, fixes[run_start], fixes[i - 1])
                if visit.dwell_minutes >= dwell:
                    visits.append(visit)
                run_start = None
    visits.sort(key=lambda v: v.entered.ts)
    return visits


def route_check(fixes: list[Fix], route, tolerance_m: float, exclude=()) -> tuple[float, Fix | None]:
    """Farthest distance (m) of a fix from the route, ignoring fixes inside ``exclude`` polygons.

    Returns ``(distance, worst fix)``; compliant when ``distance <= tolerance_m``.
    """
    frame = LocalFrame.around(route)
    route_m = frame.to_m(route)
    excluded = [frame.to_m(g) for g in exclude]
    worst, worst_fix = 0.0, None
    for fix in fixes:
        x, y = frame.xy(fix.lon, fix.lat)
        point = shapely.Point(float(x), float(y))
        if any(g.covers(point) for g in excluded):
            continue
        d = route_m.distance(point)
        if d > worst:
            worst, worst_fix = d, fix
    return worst, worst_fix


def check_vehicle(vehicle, start, end, user=None) -> dict:
    """Attribute the vehicle's track in ``[start, end)`` to sites and check its route.

    Stores new ``SiteVisit`` rows; on a route deviation beyond tolerance creates one
    ``ViolationEvent`` (source "system") for the period, audits it and notifies the site's
    unit. Returns a summary.
    """
    from zhili.core.audit import emit
    from zhili.environment.models import ConstructionSite, SiteStatus, SiteVisit, ViolationEvent

    if not vehicle.gps_device_id:
        return {"fixes": 0, "visits": [], "off_route_m": None, "violation": None}
    fixes = track(vehicle.gps_device_id, start, end)
    sites = list(ConstructionSite.objects.exclude(status=SiteStatus.FINISHED).exclude(geometry__isnull=True))
    visits = site_visits(
        fixes, [(s.pk, s.geometry, s.dwell_minutes) for s in sites if s.geometry is not None]
    )
    summary = {"fixes": len(fixes), "visits": [], "off_route_m": None, "violation": None}
    with transaction.atomic():
        for visit in visits:
            obj, created = SiteVisit.objects.get_or_create(
                vehicle=vehicle,
                site_id=visit.site_id,
                entered_at=visit.entered.time,
                defaults={
                    "left_at": visit.left.time,
                    "dwell_minutes": round(visit.dwell_minutes, 1),
                    "data_source": "device",
                },
            )
            if not created and obj.left_at != visit.left.time:
                obj.left_at = visit.left.time
                obj.dwell_minutes = round(visit.dwell_minutes, 1)
                obj.save(update_fields=["left_at", "dwell_minutes", "updated_at"])
            summary["visits"].append(
                {
                    "site": visit.site_id,
                    "entered": visit.entered.time.isoformat(),
                    "minutes": round(visit.dwell_minutes, 1),
                }
            )
        route = vehicle.route
        if route is not None and route.geometry is not None and fixes:
            distance, worst = route_check(
                fixes, route.geometry, route.tolerance_m, [s.geometry for s in sites]
            )
            summary["off_route_m"] = round(distance, 1)
            SiteVisit.objects.filter(vehicle=vehicle, entered_at__gte=start, entered_at__lt=end).update(
                route_checked=True, off_route_m=round(distance, 1)
            )
            if distance > route.tolerance_m and worst is not None:
                existing = ViolationEvent.objects.filter(
                    vehicle=vehicle, kind="route_deviation", occurred_at__gte=start, occurred_at__lt=end
                ).first()
                if existing is None:
                    event = ViolationEvent.objects.create(
                        site=route.site,
                        vehicle=vehicle,
                        kind="route_deviation",
                        source="system",
                        occurred_at=worst.time,
                        geometry=shapely.Point(worst.lon, worst.lat),
                        status="warned",
                        description=_(
                            "%(plate)s was %(distance)d m from the allowed route %(route)s (tolerance %(tol)d m)."
                        )
                        % {
                            "plate": vehicle.plate,
                            "distance": distance,
                            "route": route.name,
                            "tol": route.tolerance_m,
                        },
                        data_source="device",
                    )
                    emit(
                        "environment.route_deviation",
                        user=user,
                        obj=event,
                        details={"distance_m": round(distance, 1)},
                    )
                    _warn(event)
                    summary["violation"] = event.pk
                else:
                    summary["violation"] = existing.pk
    return summary


#: A vehicle's track is checked at most this often from the ingest (seconds of wall time).
LISTENER_CHECK_EVERY_S = 300
LISTENER_WINDOW = dt.timedelta(hours=2)
_gps_vehicles: dict = {"loaded": 0.0, "map": {}}
_last_check: dict[int, float] = {}


def on_readings(batch) -> None:
    """Reading listener (``zhili.iot.hooks``): check the tracks of vehicles whose GPS reported.

    Cheap for every other batch (a set intersection against a cached device → vehicle map,
    refreshed each minute); each vehicle is checked at most every ``LISTENER_CHECK_EVERY_S``
    over the two hours before its newest fix, so entering a site and leaving the route are
    noticed while the truck drives, without anyone pressing a button.
    """
    import time

    from zhili.environment.models import Vehicle

    now = time.monotonic()
    if now - _gps_vehicles["loaded"] > 60:
        _gps_vehicles["map"] = dict(
            Vehicle.objects.filter(gps_device__isnull=False).values_list("gps_device_id", "pk")
        )
        _gps_vehicles["loaded"] = now
    known = _gps_vehicles["map"]
    if not known:
        return
    newest: dict[int, int] = {}
    for row in batch:
        if row.metric_code == "lon" and row.device_id in known:
            ts = row.ts if isinstance(row.ts, int) else int(row.ts.timestamp() * 1000)
            newest[row.device_id] = max(newest.get(row.device_id, 0), ts)
    for device_id, ts in newest.items():
        vehicle_id = known[device_id]
        if now - _last_check.get(vehicle_id, -1e9) < LISTENER_CHECK_EVERY_S:
            continue
        _last_check[vehicle_id] = now
        vehicle = Vehicle.objects.select_related("route", "route__site").filter(pk=vehicle_id).first()
        if vehicle is not None:
            end = dt.datetime.fromtimestamp(ts / 1000 + 0.001, tz=dt.UTC)
            check_vehicle(vehicle, end - LISTENER_WINDOW, end)


def _warn(event) -> None:
    """Send the warning of a violation to the users of the site's unit (or the staff if none)."""
    from django.contrib.auth import get_user_model

    from zhili.core.notices import notify

    users = get_user_model().objects.filter(is_active=True)
    unit = event.site.owner_unit_id if event.site_id else None
    recipients = users.filter(department_id=unit) if unit else users.filter(is_staff=True)
    if not recipients.exists():
        return
    notify(
        list(recipients),
        _("Violation: %(kind)s") % {"kind": event.get_kind_display()},
        body=event.description,
        url=event.get_absolute_url(),
        level="warning",
        category="environment.violation",
        obj=event,
    )
