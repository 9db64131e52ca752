"""Case statistics (R-4.3-performance progress report, R-6-cases): aggregates in SQL only."""

import io
from datetime import timedelta

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from zhili.cases.models import OPEN_STATES, Channel, Status

CELL_DEG = 0.002  # heat map cell ≈ 200 m


def _rate(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def report(qs, days: int, now) -> dict:
    """Volumes, on-time rates, 办结率/解决率, satisfaction and reopen rate over the last ``days``."""
    since = now - timedelta(days=days)
    period = qs.filter(reported_at__gte=since)
    totals = period.aggregate(
        total=Count("id"),
        closed=Count("id", filter=Q(status=Status.CLOSED)),
        rejected=Count("id", filter=Q(status__in=(Status.REJECTED, Status.MERGED))),
        open=Count("id", filter=Q(status__in=OPEN_STATES)),
        overdue=Count("id", filter=Q(status__in=OPEN_STATES, sla_state="overdue")),
        rated=Count("id", filter=Q(rating__isnull=False)),
        resolved=Count("id", filter=Q(resolved=True)),
        satisfied=Count("id", filter=Q(rating__gte=4)),
        avg_rating=Avg("rating"),
        reopened=Count("id", filter=Q(reopen_count__gt=0)),
        accept_done=Count("id", filter=Q(accept_on_time__isnull=False)),
        accept_ok=Count("id", filter=Q(accept_on_time=True)),
        dispatch_done=Count("id", filter=Q(dispatch_on_time__isnull=False)),
        dispatch_ok=Count("id", filter=Q(dispatch_on_time=True)),
        handle_done=Count("id", filter=Q(handle_on_time__isnull=False)),
        handle_ok=Count("id", filter=Q(handle_on_time=True)),
    )
    accepted = totals["total"] - totals["rejected"]
    rates = {
        "closed_rate": _rate(totals["closed"], accepted),
        "resolved_rate": _rate(totals["resolved"], totals["rated"]),
        "satisfaction_rate": _rate(totals["satisfied"], totals["rated"]),
        "reopen_rate": _rate(totals["reopened"], totals["closed"]),
        "accept_on_time": _rate(totals["accept_ok"], totals["accept_done"]),
        "dispatch_on_time": _rate(totals["dispatch_ok"], totals["dispatch_done"]),
        "handle_on_time": _rate(totals["handle_ok"], totals["handle_done"]),
        "avg_rating": round(totals["avg_rating"], 2) if totals["avg_rating"] else None,
    }
    channel_labels = dict(Channel.choices)
    by_channel = [
        (str(channel_labels.get(row["channel"], row["channel"])), row["n"])
        for row in period.values("channel").annotate(n=Count("id")).order_by("-n")
    ]
    by_category = [
        (row["category__name"], row["n"])
        for row in period.values("category__name").annotate(n=Count("id")).order_by("-n")[:20]
    ]
    by_grid = [
        (row["grid__name"] or _("(no grid)"), row["n"])
        for row in period.values("grid__name").annotate(n=Count("id")).order_by("-n")[:20]
    ]
    by_department = [
        {
            "name": row["department__name"] or _("(not dispatched)"),
            "total": row["n"],
            "closed": row["closed"],
            "open": row["open"],
            "overdue": row["overdue"],
            "closed_rate": _rate(row["closed"], row["n"]),
            "handle_on_time": _rate(row["handle_ok"], row["handle_done"]),
            "avg_rating": round(row["avg"], 2) if row["avg"] else None,
        }
        for row in period.values("department__name")
        .annotate(
            n=Count("id"),
            closed=Count("id", filter=Q(status=Status.CLOSED)),
            open=Count("id", filter=Q(status__in=OPEN_STATES)),
            overdue=Count("id", filter=Q(status__in=OPEN_STATES, sla_state="overdue")),
            handle_done=Count("id", filter=Q(handle_on_time__isnull=False)),
            handle_ok=Count("id", filter=Q(handle_on_time=True)),
            avg=Avg("rating"),
        )
        .order_by("-n")
    ]
    return {
        "days": days,
        "since": since,
        "totals": totals,
        "rates": rates,
        "by_channel": by_channel,
        "by_category": by_category,
        "by_grid": by_grid,
        "by_department": by_department,
        "hotspots": hotspots(qs, now),
    }


def hotspots(
    qs, now, *, recent_days: int = 7, baseline_days: int = 56, factor: float = 2.0, minimum: int = 3
):
    """Return grid × category pairs whose last-week count is well above their usual weekly rate.

    "Usual" is the mean weekly count of the previous ``baseline_days``; a pair is a hotspot when
    the recent count is at least ``minimum`` and exceeds ``factor`` × usual + 2·√usual (a
    Poisson-style margin, so a quiet pair needs more than one extra case).
    """
    recent_since = now - timedelta(days=recent_days)
    base_since = recent_since - timedelta(days=baseline_days)
    rows = (
        qs.filter(reported_at__gte=base_since, grid__isnull=False)
        .values("grid_id", "grid__name", "category__name")
        .annotate(
            recent=Count("id", filter=Q(reported_at__gte=recent_since)),
            base=Count("id", filter=Q(reported_at__lt=recent_since)),
        )
        .filter(recent__gte=minimum)
    )
    weeks = baseline_days / recent_days
    result = []
    for row in rows:
        usual = row["base"] / weeks
        if row["recent"] > factor * usual + 2 * usual**0.5:
            result.append(
                {
                    "grid_id": row["grid_id"],
                    "grid": row["grid__name"],
                    "category": row["category__name"],
                    "recent": row["recent"],
                    "usual": round(usual, 1),
                }
            )
    result.sort(key=lambda r: -r["recent"])
    return result[:20]


def heat_cells(qs, days: int, now) -> dict:
    """Aggregate case points of the period into ~200 m cells (GeoJSON polygons with counts)."""
    from django.db.models import FloatField, IntegerField
    from django.db.models.functions import Cast, Floor

    since = now - timedelta(days=days)
    rows = (
        qs.filter(reported_at__gte=since, bbox_minx__isnull=False)
        .annotate(
            cx=Cast(Floor(Cast("bbox_minx", FloatField()) / CELL_DEG), IntegerField()),
            cy=Cast(Floor(Cast("bbox_miny", FloatField()) / CELL_DEG), IntegerField()),
        )
        .values("cx", "cy")
        .annotate(n=Count("id"))
        .order_by()
    )
    features = []
    for row in rows[:20000]:
        x0, y0 = row["cx"] * CELL_DEG, row["cy"] * CELL_DEG
        ring = [[x0, y0], [x0 + CELL_DEG, y0], [x0 + CELL_DEG, y0 + CELL_DEG], [x0, y0 + CELL_DEG], [x0, y0]]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"count": row["n"]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def chart_data(report_: dict) -> dict:
    return {
        "channel": [{"name": name, "value": n} for name, n in report_["by_channel"]],
        "category": {
            "names": [n for n, _v in report_["by_category"]],
            "values": [v for _n, v in report_["by_category"]],
        },
        "grid": {"names": [n for n, _v in report_["by_grid"]], "values": [v for _n, v in report_["by_grid"]]},
        "ontime": {
            "names": [_("Accept"), _("Dispatch"), _("Handle")],
            "values": [
                report_["rates"]["accept_on_time"] or 0,
                report_["rates"]["dispatch_on_time"] or 0,
                report_["rates"]["handle_on_time"] or 0,
            ],
        },
    }


def report_xlsx(report_: dict) -> bytes:
    """The case-handling progress report as a workbook (summary, departments, categories, grids)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = _("Summary")
    t, r = report_["totals"], report_["rates"]
    sheet.append([_("Period (days)"), report_["days"]])
    for label, value in (
        (_("Cases"), t["total"]),
        (_("Open"), t["open"]),
        (_("Overdue"), t["overdue"]),
        (_("Closed"), t["closed"]),
        (_("Closed rate (办结率) %"), r["closed_rate"]),
        (_("Resolved rate (解决率) %"), r["resolved_rate"]),
        (_("Satisfaction %"), r["satisfaction_rate"]),
        (_("Average rating"), r["avg_rating"]),
        (_("Reopen rate %"), r["reopen_rate"]),
        (_("Accepted on time %"), r["accept_on_time"]),
        (_("Dispatched on time %"), r["dispatch_on_time"]),
        (_("Handled on time %"), r["handle_on_time"]),
    ):
        sheet.append([label, value])
    departments = book.create_sheet(_("Departments"))
    departments.append(
        [
            _("Department"),
            _("Cases"),
            _("Closed"),
            _("Open"),
            _("Overdue"),
            _("Closed rate %"),
            _("Handled on time %"),
            _("Average rating"),
        ]
    )
    for row in report_["by_department"]:
        departments.append(
            [
                row["name"],
                row["total"],
                row["closed"],
                row["open"],
                row["overdue"],
                row["closed_rate"],
                row["handle_on_time"],
                row["avg_rating"],
            ]
        )
    for title, rows in (
        (_("Categories"), report_["by_category"]),
        (_("Grids"), report_["by_grid"]),
        (_("Channels"), report_["by_channel"]),
    ):
        sheet_ = book.create_sheet(title)
        sheet_.append([title, _("Cases")])
        for name, n in rows:
            sheet_.append([name, n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def hotspot_features(qs, now) -> dict:
    """The hotspot warnings as GeoJSON: each flagged grid's boundary with what runs high there."""
    import json

    import shapely

    from zhili.places.models import Grid

    spots = hotspots(qs, now)
    shapes = {g.pk: g.geometry for g in Grid.objects.filter(pk__in={s["grid_id"] for s in spots})}
    features = []
    for spot in spots:
        shape = shapes.get(spot["grid_id"])
        if shape is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(shape)),
                "properties": {
                    "hotspot": True,
                    "name": f"{spot['grid']} · {spot['category']}: {spot['recent']} ({spot['usual']})",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
