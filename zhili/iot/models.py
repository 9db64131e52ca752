"""IoT devices, credentials, metrics, readings, rules and alarms: shared by every sensing module.

This is the interface other apps (environment, pipelines, community security, rural water and
agriculture) build on (R-5.1-fusion, R-10.3-iot, R-5.3.2-monitor):

- ``Device``: a registered ``GeoModel`` (Point) identified by ``code``, the id used in MQTT topics
  ``zhili/{code}/telemetry``. ``status`` (online/offline/never/disabled) follows ``last_seen_at``.
- ``DeviceCredential``: one device's token or MQTT password (stored hashed), optional HMAC
  signing key (encrypted at rest), with expiry and revocation for rotation.
- ``Metric``: what can be measured (``pm25`` µg/m³, ``noise_laeq`` dB(A) …) with unit and valid
  range; ``device_types`` says which device types declare it.
- ``Reading``, ``Rollup``, ``LatestReading``: the time-series store. Never write them with the ORM:
  use ``zhili.iot.store`` (``write_readings``, ``series``, ``latest``).
- ``Rule`` and ``Alarm``: rules per device type and metric; an alarm per device and rule at most
  open at once; lifecycle raised → acknowledged → closed.
- ``DeadLetter``: every rejected message with its reason, counted per device.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import GeometryField
from zhili.core.models import BaseModel, GeoModel
from zhili.iot.choices import (
    AlarmStatus,
    CredentialKind,
    DeadLetterReason,
    DeviceStatus,
    DeviceType,
    IngestChannel,
    Severity,
)

DEVICE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_device_code(value: str) -> None:
    """A device code is used in MQTT topics: letters, digits, ``_.-`` only (no ``/+#``)."""
    if not DEVICE_CODE_RE.match(value or ""):
        raise ValidationError(
            _("Use 1–64 letters, digits, '_', '.' or '-' (the code is part of the MQTT topic)."),
            code="device_code",
        )


def validate_metric_code(value: str) -> None:
    if not re.match(r"^[a-z][a-z0-9_]{0,31}$", value or ""):
        raise ValidationError(_("Use lower-case letters, digits and '_' (e.g. pm25)."), code="metric_code")


class Metric(BaseModel):
    """A measured quantity with its unit and valid range.

    Values outside ``[min_value, max_value]`` are dead-lettered, never stored as readings.
    ``device_types`` is a comma-separated list of ``DeviceType`` values that declare this metric
    (a device may also declare its own list through ``Device.metrics``).
    """

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[validate_metric_code])
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    min_value = models.FloatField(_("minimum valid value"), null=True, blank=True)
    max_value = models.FloatField(_("maximum valid value"), null=True, blank=True)
    decimals = models.PositiveSmallIntegerField(_("decimals shown"), default=1)
    device_types = models.CharField(
        _("device types"),
        max_length=300,
        blank=True,
        help_text=_(
            "Comma-separated device type codes that declare this metric, e.g. air_station,dust_monitor"
        ),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.unit})" if self.unit else self.name

    def device_type_list(self) -> list[str]:
        return [t.strip() for t in self.device_types.split(",") if t.strip()]

    def clean(self):
        super().clean()
        unknown = [t for t in self.device_type_list() if t not in DeviceType.values]
        if unknown:
            raise ValidationError({"device_types": _("Unknown device type(s): %s") % ", ".join(unknown)})
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValidationError({"max_value": _("The maximum must not be below the minimum.")})


class Device(GeoModel):
    """A sensing device at a point of the town (R-5.1-fusion, R-10.3-iot).

    ``code`` is the device id in topics (``zhili/{code}/telemetry``) and payloads. ``status`` is
    maintained from ``last_seen_at`` by the ``iot_device_status`` job (offline after
    ``offline_after_s`` seconds, or the ``ZHILI["IOT_OFFLINE_AFTER_S"]`` default).
    """

    code = models.CharField(_("device code"), max_length=64, unique=True, validators=[validate_device_code])
    name = models.CharField(_("name"), max_length=100)
    device_type = models.CharField(_("device type"), max_length=20, choices=DeviceType.choices)
    geometry = GeometryField(_("location"), geom_types=("Point",), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="devices",
    )
    metrics = models.ManyToManyField(
        Metric,
        verbose_name=_("declared metrics"),
        blank=True,
        related_name="devices",
        help_text=_("Leave empty to use the metrics declared for the device type."),
    )
    vendor = models.CharField(_("vendor / model"), max_length=100, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    require_signature = models.BooleanField(
        _("require HMAC signature"),
        default=False,
        help_text=_("Reject payloads without a valid HMAC signature."),
    )
    rate_limit = models.PositiveIntegerField(
        _("rate limit (messages/minute)"), null=True, blank=True, help_text=_("Empty: the platform default.")
    )
    offline_after_s = models.PositiveIntegerField(_("offline after (seconds)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.NEVER, editable=False
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False, db_index=True)
    battery = models.FloatField(_("battery (%)"), null=True, blank=True, editable=False)
    signal = models.IntegerField(_("signal (dBm)"), null=True, blank=True, editable=False)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta(GeoModel.Meta):
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["code"]
        indexes = [
            *GeoModel.Meta.indexes,
            models.Index(fields=["device_type", "status"], name="iot_device_type_status"),
        ]
        permissions = [("manage_credentials_device", _("Can issue, rotate and revoke device credentials"))]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def declared_metric_codes(self) -> set[str]:
        """Return the metric codes this device may publish."""
        own = {m.code for m in self.metrics.all()}
        if own:
            return own
        return {
            m.code
            for m in Metric.objects.filter(device_types__contains=self.device_type)
            if self.device_type in m.device_type_list()
        }


def new_key_id() -> str:
    import secrets

    return secrets.token_hex(6)


def unusable_secret_hash() -> str:
    """The hash of a random secret nobody is shown: a credential created without the "issue"
    action (a generic form or import) cannot authenticate until it is rotated."""
    import hashlib
    import secrets

    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


class DeviceCredential(BaseModel):
    """One credential of a device (R-10.3-iot). Secrets are shown once and stored hashed.

    ``secret_hash`` is the SHA-256 of the random secret (tokens have 256 bits of entropy, so a
    slow hash adds nothing). ``broker_hash`` is the same secret in Mosquitto's password-file
    format (PBKDF2-SHA512) for the broker's own authentication. ``hmac_key`` is encrypted with a
    key derived from the server secret and signs payloads when the device requires it.
    Rotation issues a new credential and lets the old one expire after a grace period.
    """

    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="credentials"
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=CredentialKind.choices, default=CredentialKind.TOKEN
    )
    username = models.CharField(_("MQTT username"), max_length=64, blank=True)
    key_id = models.CharField(_("key id"), max_length=16, unique=True, editable=False, default=new_key_id)
    secret_hash = models.CharField(
        _("secret hash"), max_length=64, editable=False, default=unusable_secret_hash
    )
    broker_hash = models.CharField(_("broker password hash"), max_length=200, blank=True, editable=False)
    hmac_key = models.TextField(_("HMAC key (encrypted)"), blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta(BaseModel.Meta):
        verbose_name = _("device credential")
        verbose_name_plural = _("device credentials")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.device.code} · {self.key_id}"

    def is_valid_now(self, now=None) -> bool:
        now = now or timezone.now()
        return self.active and self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Reading(models.Model):
    """One value of one metric of one device at one instant: the narrow row of the store.

    ``ts`` is Unix time in milliseconds (UTC). The primary key (device, metric, ts) makes the
    same reading idempotent and serves every series query. Written only by ``zhili.iot.store``.
    """

    pk = models.CompositePrimaryKey("device_id", "metric_id", "ts")
    device = models.ForeignKey(
        Device, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    metric = models.ForeignKey(
        Metric, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    ts = models.BigIntegerField()
    value = models.FloatField()

    class Meta:
        db_table = "iot_reading"
        default_permissions = ()

    def __str__(self):
        return f"{self.device_id}/{self.metric_id}@{self.ts}={self.value}"


class Rollup(models.Model):
    """Hourly (``period`` 3600) and daily (86400, local days) aggregates, kept in step with every
    committed batch by ``zhili.iot.store``. ``bucket`` is the period start in Unix ms."""

    pk = models.CompositePrimaryKey("device_id", "metric_id", "period", "bucket")
    device = models.ForeignKey(
        Device, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    metric = models.ForeignKey(
        Metric, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    period = models.IntegerField()
    bucket = models.BigIntegerField()
    count = models.IntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    class Meta:
        db_table = "iot_rollup"
        default_permissions = ()

    def __str__(self):
        return f"{self.device_id}/{self.metric_id}@{self.bucket}/{self.period}s"


class LatestReading(models.Model):
    """The newest value per device and metric (map, dashboards, ``store.latest``)."""

    pk = models.CompositePrimaryKey("device_id", "metric_id")
    device = models.ForeignKey(
        Device, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    metric = models.ForeignKey(
        Metric, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    ts = models.BigIntegerField()
    value = models.FloatField()

    class Meta:
        db_table = "iot_latest"
        default_permissions = ()

    def __str__(self):
        return f"{self.device_id}/{self.metric_id}={self.value}"


class DeadLetter(BaseModel):
    """A rejected message or reading with the reason, never silently dropped.

    Repeats of the same device and reason within a minute (floods) add to ``repeat_count``
    instead of adding rows, so a misbehaving device cannot fill the table.
    """

    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=IngestChannel.choices)
    device = models.ForeignKey(
        Device,
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dead_letters",
    )
    device_code = models.CharField(_("device code"), max_length=64, blank=True, db_index=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=DeadLetterReason.choices, db_index=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    payload = models.TextField(_("payload (truncated)"), blank=True)
    repeat_count = models.PositiveIntegerField(_("count"), default=1)

    class Meta(BaseModel.Meta):
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.device_code or '?'} · {self.get_reason_display()}"


class Rule(BaseModel):
    """An alarm rule for a device type (or one device) and a metric (R-5.3.2-monitor).

    ``kind`` is one of the kinds in ``zhili.iot.rules`` (threshold, threshold_duration,
    rate_of_change, missing_data, day_night, and kinds other apps register such as
    ``aqi_category``); ``params`` holds the kind's parameters (see ``docs/iot.md``).
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=40)
    device_type = models.CharField(_("device type"), max_length=20, choices=DeviceType.choices, blank=True)
    device = models.ForeignKey(
        Device,
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
    )
    metric = models.ForeignKey(
        Metric,
        verbose_name=_("metric"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MAJOR
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    auto_close = models.BooleanField(_("close when back to normal"), default=False)
    open_case = models.BooleanField(_("open a case automatically"), default=False)
    case_category = models.CharField(_("case category"), max_length=40, blank=True, default="device.fault")
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate if unacknowledged after (minutes)"), null=True, blank=True
    )
    description = models.TextField(_("description"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if isinstance(self.params, str):  # imports give the JSON text
            import json

            try:
                self.params = json.loads(self.params) if self.params.strip() else {}
            except ValueError:
                raise ValidationError({"params": _("Parameters must be a JSON object.")})
        from zhili.iot.rules import validate_rule

        validate_rule(self)


class Alarm(BaseModel):
    """An alarm of one device under one rule: raised → acknowledged → closed.

    At most one alarm per device and rule is open (a partial unique constraint), so a
    sensor stuck above its threshold raises one alarm, not a flood.
    """

    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="alarms"
    )
    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="alarms")
    metric = models.ForeignKey(
        Metric, verbose_name=_("metric"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MAJOR
    )
    status = models.CharField(
        _("status"), max_length=14, choices=AlarmStatus.choices, default=AlarmStatus.RAISED
    )
    message = models.CharField(_("message"), max_length=300)
    value = models.FloatField(_("value"), null=True, blank=True)
    observed_at = models.DateTimeField(_("observed at"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    last_breach_at = models.DateTimeField(_("last breach"), null=True, blank=True)
    breach_count = models.PositiveIntegerField(_("breaches"), default=1)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    close_note = models.CharField(_("closing note"), max_length=300, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    case_id = models.BigIntegerField(_("case"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule"],
                condition=~Q(status="closed"),
                name="iot_alarm_one_open_per_device_rule",
            )
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="iot_alarm_status_updated")]
        permissions = [
            ("acknowledge_alarm", _("Can acknowledge and close alarms")),
            ("open_case_alarm", _("Can open a case from an alarm")),
        ]

    def __str__(self):
        return f"{self.device.code} · {self.message}"

    @property
    def is_open(self) -> bool:
        return self.status != AlarmStatus.CLOSED
