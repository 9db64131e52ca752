"""The one audit stream: append-only, hash-chained events (R-10.3-audit, R-10.3-integrity)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One event. ``hash`` = H(previous hash + canonical event); rows are never updated or deleted
    (database triggers refuse it). ``details`` holds the canonical JSON text exactly as hashed."""

    time = models.DateTimeField(_("time"), db_index=True)
    event_type = models.CharField(_("type"), max_length=64, db_index=True)
    username = models.CharField(_("user"), max_length=150, blank=True, db_index=True)
    ip = models.CharField(_("IP address"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    success = models.BooleanField(_("success"), default=True)
    details = models.TextField(_("details"), blank=True, default="{}")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        default_permissions = ("view", "export")
        indexes = [models.Index(fields=["event_type", "time"], name="audit_type_time")]

    def __str__(self):
        return f"#{self.pk} {self.event_type} {self.username}"


class ChainHead(models.Model):
    """The chain's last event (one row): writers lock it, so the chain never forks."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    #: After pruning: the last archived event; the first remaining event links to its hash.
    anchor_id = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"head #{self.last_id}"
