"""Environment chapter: daily AQI per station, attainment targets, dust factors, construction sites.

Readings live in the IoT store (``zhili.iot.store``); this app keeps what is derived from them
(``DailyAQI``) and the things of the construction-site chapter (R-5.4.1–5.4.3): sites, cameras,
vehicles, allowed routes, violation events and the site visits found in GPS tracks.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import GeometryField, SensitiveCharField
from zhili.core.models import BaseModel, GeoModel
from zhili.environment import aqi

#: GeoModel's bounding-box index, renamed where "<app>_<model>_bbox" exceeds 30 characters.
BBOX_FIELDS = ["bbox_minx", "bbox_miny", "bbox_maxx", "bbox_maxy"]


class SiteStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Under construction")
    SUSPENDED = "suspended", _("Suspended")
    FINISHED = "finished", _("Finished")


class VehicleKind(models.TextChoices):
    MUCK_TRUCK = "muck_truck", _("Muck truck")
    LOADER = "loader", _("Loader")
    BULLDOZER = "bulldozer", _("Bulldozer")
    PAVER = "paver", _("Paver")
    FORKLIFT = "forklift", _("Forklift")


class ViolationKind(models.TextChoices):
    UNCOVERED_LOAD = "uncovered_load", _("Uncovered load")
    MUDDY_WHEELS = "muddy_wheels", _("Muddy wheels")
    SPILL = "spill", _("Spill on the road")
    BARE_SOIL = "bare_soil", _("Bare soil not covered")
    NO_HELMET = "no_helmet", _("No safety helmet")
    NIGHT_WORK = "night_work", _("Night work without permit")
    ROUTE_DEVIATION = "route_deviation", _("Left the allowed route")
    NOISE = "noise", _("Noise over the limit")
    DUST = "dust", _("Dust over the limit")
    OTHER = "other", _("Other")


class ViolationSource(models.TextChoices):
    EDGE_AI = "edge_ai", _("Edge AI camera")
    STAFF = "staff", _("Entered by staff")
    SYSTEM = "system", _("Detected by the platform")


class ViolationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WARNED = "warned", _("Warning sent")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


class Pollutant(models.TextChoices):
    SO2 = "so2", "SO2"
    NO2 = "no2", "NO2"
    PM10 = "pm10", "PM10"
    PM25 = "pm25", "PM2.5"
    CO = "co", "CO"
    O3 = "o3", "O3"
    GOOD_DAYS = "good_days", _("Good-day ratio (%)")
    COMPOSITE = "composite", _("Composite index")


class DustFactorKind(models.TextChoices):
    ROAD_DISTANCE = "road_distance", _("Distance to a busy road (m)")
    MUCK_TRUCKS = "muck_trucks", _("Muck trucks within the radius in the last hour")
    SITE_DISTANCE = "site_distance", _("Distance to an active construction site (m)")
    WIND_SPEED = "wind_speed", _("Wind speed (m/s)")
    PM10 = "pm10", _("PM10 of the nearest monitor (ug/m3)")


# --------------------------------------------------------------------------- air quality

AQI_LEVEL_CHOICES = [(0, "NA")] + [(c.level, c.name_zh) for c in aqi.CATEGORIES]


class DailyAQI(BaseModel):
    """The daily report of one air station (or the town, ``device`` empty) for one natural day.

    Computed from the hourly rollups of the IoT store by ``zhili.environment.analytics``; the
    concentration columns are the report's indicator values (NULL = invalid per GB 3095 Table 4).
    """

    device = models.ForeignKey(
        "iot.Device",
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="daily_aqi",
    )
    date = models.DateField(_("date"))
    profile = models.CharField(_("standard"), max_length=16, default=aqi.DEFAULT_PROFILE)
    aqi = models.PositiveSmallIntegerField(_("AQI"), null=True, blank=True, help_text=_("Empty = NA"))
    computed_aqi = models.PositiveSmallIntegerField(_("AQI from available pollutants"), null=True, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), default=0, choices=AQI_LEVEL_CHOICES)
    primary_pollutants = models.CharField(_("primary pollutants"), max_length=64, blank=True)
    so2 = models.FloatField("SO2 24h", null=True, blank=True)
    no2 = models.FloatField("NO2 24h", null=True, blank=True)
    co = models.FloatField("CO 24h", null=True, blank=True)
    pm10 = models.FloatField("PM10 24h", null=True, blank=True)
    pm25 = models.FloatField("PM2.5 24h", null=True, blank=True)
    o3_8h = models.FloatField(_("O3 daily max 8h"), null=True, blank=True)
    o3_1h = models.FloatField(_("O3 daily max 1h"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("daily AQI")
        verbose_name_plural = _("daily AQI")
        constraints = [
            models.UniqueConstraint(fields=["device", "date", "profile"], name="env_daily_aqi_unique"),
        ]
        indexes = [models.Index(fields=["date", "device"], name="env_daily_aqi_date")]

    def __str__(self):
        where = self.device.name if self.device_id else _("Town")
        return f"{where} {self.date} AQI {self.aqi if self.aqi is not None else 'NA'}"

    @property
    def category(self):
        return aqi.category_for(self.aqi)


class AttainmentTarget(BaseModel):
    """A target for one pollutant's annual statistic (R-5.1.4), e.g. PM2.5 annual mean ≤ 30."""

    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000)])
    pollutant = models.CharField(_("pollutant"), max_length=16, choices=Pollutant.choices)
    target = models.FloatField(_("target value"), validators=[MinValueValidator(0)])
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("attainment target")
        verbose_name_plural = _("attainment targets")
        constraints = [models.UniqueConstraint(fields=["year", "pollutant"], name="env_target_unique")]

    def __str__(self):
        return f"{self.year} {self.get_pollutant_display()} ≤ {self.target:g}"


def parse_grades(text: str) -> list[tuple[float | None, float]]:
    """Parse "50:100; 200:60; *:0" into [(50, 100), (200, 60), (None, 0)].

    Each pair is "upper bound : score (0–100)"; bounds ascend; the last bound is "*" (no limit).
    """
    grades: list[tuple[float | None, float]] = []
    parts = [p.strip() for p in (text or "").replace("；", ";").split(";") if p.strip()]
    if not parts:
        raise ValueError(_("Give at least one grade, e.g. 50:100; 200:60; *:0"))
    for part in parts:
        bound, sep, score = part.partition(":")
        if not sep:
            raise ValueError(_("Write each grade as bound:score, e.g. 200:60"))
        try:
            value = float(score)
            upper = None if bound.strip() == "*" else float(bound)
        except ValueError:
            raise ValueError(_("Bounds and scores must be numbers (the last bound may be *)"))
        if not 0 <= value <= 100:
            raise ValueError(_("Scores are between 0 and 100"))
        if grades and (grades[-1][0] is None or (upper is not None and upper <= grades[-1][0])):
            raise ValueError(_("Bounds must ascend and only the last may be *"))
        grades.append((upper, value))
    if grades[-1][0] is not None:
        raise ValueError(_("The last grade must be * (everything above)"))
    return grades


class DustFactor(BaseModel):
    """One factor of the dust analysis (R-5.1.5) with its graded thresholds and weight."""

    kind = models.CharField(_("factor"), max_length=20, choices=DustFactorKind.choices, unique=True)
    grades = models.CharField(
        _("grades"),
        max_length=200,
        help_text=_("upper bound:score pairs, ascending, e.g. 50:100; 200:60; 500:20; *:0"),
    )
    weight = models.FloatField(_("weight"), validators=[MinValueValidator(0), MaxValueValidator(100)])
    radius_m = models.PositiveIntegerField(
        _("radius (m)"), default=500, help_text=_("Search radius for counting muck trucks")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("dust factor")
        verbose_name_plural = _("dust factors")

    def __str__(self):
        return self.get_kind_display()

    def clean(self):
        super().clean()
        try:
            parse_grades(self.grades)
        except ValueError as exc:
            raise ValidationError({"grades": str(exc)})

    def score(self, value: float) -> float:
        for upper, score in parse_grades(self.grades):
            if upper is None or value <= upper:
                return score
        return 0.0  # pragma: no cover - the last grade is open-ended


# --------------------------------------------------------------------------- construction sites


class ConstructionSite(GeoModel):
    """A construction site with its boundary, devices and limits (R-5.4.1)."""

    geometry = GeometryField(_("boundary"), geom_types=("Polygon", "MultiPolygon"))
    code = models.CharField(_("site code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    project = models.CharField(_("project"), max_length=200)
    contractor = models.CharField(_("contractor"), max_length=200)
    contractor_unit = models.ForeignKey(
        "orgs.BusinessUnit",
        verbose_name=_("contractor (registered unit)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="construction_sites",
    )
    manager = models.CharField(_("site manager"), max_length=50, blank=True)
    manager_phone = SensitiveCharField(_("manager phone"), max_length=20, blank=True, mask="phone")
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("planned end date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SiteStatus.choices, default=SiteStatus.ACTIVE
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="construction_sites",
    )
    devices = models.ManyToManyField(
        "iot.Device", verbose_name=_("devices"), blank=True, related_name="construction_sites"
    )
    noise_day_limit = models.FloatField(_("noise limit by day dB(A)"), default=70)
    noise_night_limit = models.FloatField(_("noise limit at night dB(A)"), default=55)
    night_lmax_excess = models.FloatField(_("night L_Amax allowance dB(A)"), default=15)
    pm10_limit = models.FloatField(_("PM10 limit ug/m3"), default=150)
    dwell_minutes = models.PositiveIntegerField(
        _("dwell time for attribution (min)"),
        default=5,
        help_text=_("A vehicle inside the boundary at least this long is counted as visiting the site"),
    )

    class Meta(GeoModel.Meta):
        verbose_name = _("construction site")
        verbose_name_plural = _("construction sites")
        indexes = [models.Index(fields=BBOX_FIELDS, name="env_site_bbox")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date is before the start date.")})


class AllowedRoute(GeoModel):
    """The route muck trucks of a site must keep to, with a tolerance corridor (R-5.4.3)."""

    geometry = GeometryField(_("route"), geom_types=("LineString", "MultiLineString"))
    site = models.ForeignKey(
        ConstructionSite, verbose_name=_("site"), on_delete=models.CASCADE, related_name="routes"
    )
    name = models.CharField(_("name"), max_length=100)
    tolerance_m = models.PositiveIntegerField(_("tolerance (m)"), default=50)

    class Meta(GeoModel.Meta):
        verbose_name = _("allowed route")
        verbose_name_plural = _("allowed routes")

    def __str__(self):
        return f"{self.site} · {self.name}"


def validate_stream_url(value: str) -> None:
    if not value.lower().startswith(("rtsp://", "rtmp://", "http://", "https://")):
        raise ValidationError(_("Use an rtsp://, rtmp://, http:// or https:// address."))


class Camera(GeoModel):
    """A site camera with its stream address (R-5.4.2)."""

    geometry = GeometryField(_("location"), geom_types=("Point",), null=True, blank=True)
    site = models.ForeignKey(
        ConstructionSite, verbose_name=_("site"), on_delete=models.CASCADE, related_name="cameras"
    )
    name = models.CharField(_("name"), max_length=100)
    stream_url = models.CharField(_("stream URL"), max_length=300, validators=[validate_stream_url])
    device = models.ForeignKey(
        "iot.Device",
        verbose_name=_("IoT device"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="site_cameras",
    )
    edge_ai = models.BooleanField(_("edge AI detection"), default=False)

    class Meta(GeoModel.Meta):
        verbose_name = _("site camera")
        verbose_name_plural = _("site cameras")

    def __str__(self):
        return f"{self.site} · {self.name}"


class Vehicle(BaseModel):
    """A construction or transport vehicle (R-5.4.3); its track comes from its GPS device."""

    plate = models.CharField(_("plate number"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=VehicleKind.choices)
    driver = SensitiveCharField(_("driver"), max_length=50, blank=True, mask="name")
    driver_phone = SensitiveCharField(_("driver phone"), max_length=20, blank=True, mask="phone")
    cargo = models.CharField(_("cargo"), max_length=100, blank=True)
    company = models.CharField(_("transport company"), max_length=200, blank=True)
    site = models.ForeignKey(
        ConstructionSite,
        verbose_name=_("home site"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vehicles",
    )
    gps_device = models.OneToOneField(
        "iot.Device",
        verbose_name=_("GPS device"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vehicle",
    )
    route = models.ForeignKey(
        AllowedRoute,
        verbose_name=_("allowed route"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vehicles",
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")

    def __str__(self):
        return f"{self.plate} ({self.get_kind_display()})"


def validate_snapshot_url(value: str) -> None:
    if value and not value.lower().startswith(("http://", "https://", "/")):
        raise ValidationError(_("Use an http:// or https:// address."))


class ViolationEvent(GeoModel):
    """A violation at or around a site: from an edge-AI camera, staff, or the platform (R-5.4.2/3)."""

    geometry = GeometryField(_("location"), geom_types=("Point",), null=True, blank=True)
    site = models.ForeignKey(
        ConstructionSite,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="violations",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ViolationKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    source = models.CharField(_("source"), max_length=10, choices=ViolationSource.choices)
    camera = models.ForeignKey(
        Camera,
        verbose_name=_("camera"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="violations",
    )
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("vehicle"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="violations",
    )
    snapshot_url = models.CharField(
        _("snapshot URL"),
        max_length=500,
        blank=True,
        validators=[validate_snapshot_url],
        help_text=_("Address of the snapshot image on the camera or video platform (http/https)"),
    )
    confidence = models.FloatField(
        _("AI confidence"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ViolationStatus.choices, default=ViolationStatus.OPEN
    )

    class Meta(GeoModel.Meta):
        verbose_name = _("violation event")
        verbose_name_plural = _("violation events")
        indexes = [
            models.Index(fields=BBOX_FIELDS, name="env_violation_bbox"),
            models.Index(fields=["site", "occurred_at"], name="env_violation_site_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.occurred_at:%Y-%m-%d %H:%M}"

    def clean(self):
        super().clean()
        if self.camera_id and self.site_id and self.camera.site_id != self.site_id:
            raise ValidationError({"camera": _("The camera belongs to another site.")})


class SiteVisit(BaseModel):
    """A stretch of a vehicle's GPS track that dwelt inside a site's boundary (R-5.4.3)."""

    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("vehicle"), on_delete=models.CASCADE, related_name="visits"
    )
    site = models.ForeignKey(
        ConstructionSite, verbose_name=_("site"), on_delete=models.CASCADE, related_name="visits"
    )
    entered_at = models.DateTimeField(_("entered at"))
    left_at = models.DateTimeField(_("left at"))
    dwell_minutes = models.FloatField(_("dwell (min)"))
    route_checked = models.BooleanField(_("route checked"), default=False)
    off_route_m = models.FloatField(_("farthest from the allowed route (m)"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("site visit")
        verbose_name_plural = _("site visits")
        constraints = [
            models.UniqueConstraint(fields=["vehicle", "site", "entered_at"], name="env_visit_unique"),
        ]

    def __str__(self):
        return f"{self.vehicle} @ {self.site} {self.entered_at:%m-%d %H:%M}"
