from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceType(models.TextChoices):
    AIR_STATION = "air_station", _("Air quality station")
    DUST_MONITOR = "dust_monitor", _("Dust monitor")
    NOISE_METER = "noise_meter", _("Noise meter")
    WEATHER_STATION = "weather_station", _("Weather station")
    WATER_QUALITY = "water_quality", _("Water quality sensor")
    PIPE_PRESSURE = "pipe_pressure", _("Pipe pressure sensor")
    GAS_DETECTOR = "gas_detector", _("Gas detector")
    CAMERA = "camera", _("Camera")
    ACCESS_GATE = "access_gate", _("Access gate")
    VEHICLE_GPS = "vehicle_gps", _("Vehicle GPS")
    AGRI_SENSOR = "agri_sensor", _("Agricultural sensor")
    OTHER = "other", _("Other")


class DeviceStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")
    NEVER = "never", _("Never seen")
    DISABLED = "disabled", _("Disabled")


class CredentialKind(models.TextChoices):
    TOKEN = "token", _("Token (in payload or HTTP header)")
    PASSWORD = "password", _("MQTT username/password")


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {"info": 0, "minor": 1, "major": 2, "critical": 3}


class AlarmStatus(models.TextChoices):
    RAISED = "raised", _("Raised")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class IngestChannel(models.TextChoices):
    MQTT = "mqtt", _("MQTT")
    HTTP = "http", _("HTTP")
    DIRECT = "direct", _("Direct (simulator, import)")


class DeadLetterReason(models.TextChoices):
    MALFORMED = "malformed", _("Malformed payload")
    UNKNOWN_DEVICE = "unknown_device", _("Unknown device")
    BAD_CREDENTIAL = "bad_credential", _("Missing or wrong credential")
    REVOKED = "revoked", _("Device disabled or credential revoked")
    BAD_SIGNATURE = "bad_signature", _("Bad HMAC signature")
    TOPIC_MISMATCH = "topic_mismatch", _("Topic does not belong to the device")
    UNKNOWN_METRIC = "unknown_metric", _("Unknown metric")
    UNDECLARED_METRIC = "undeclared_metric", _("Metric not declared for the device")
    OUT_OF_RANGE = "out_of_range", _("Value outside the metric's valid range")
    BAD_TIMESTAMP = "bad_timestamp", _("Timestamp too far in the future or past")
    RATE_LIMITED = "rate_limited", _("Rate limit exceeded")


#: Reasons that concern who sent the message (R-10.3-iot); they are audited.
IDENTITY_REASONS = {"unknown_device", "bad_credential", "revoked", "bad_signature", "topic_mismatch"}
