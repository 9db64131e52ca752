"""Change history: who changed what, when, in which request, before and after."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")


class ChangeRecord(models.Model):
    """One change of one object, written explicitly by the generic views, the API and bulk helpers.

    Sensitive values are masked in ``prechange_data``/``postchange_data``: the history must not
    become a second, unprotected copy of personal data.
    """

    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # An append-only history carries no database foreign keys (ADR 0005): the platform writes
    # both keys itself, and a key check per record at commit was a fifth of a bulk import's
    # database time. Django still applies ``on_delete``.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    user_name = models.CharField(_("user name"), max_length=150, blank=True)
    request_id = models.UUIDField(_("request id"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=ChangeAction.choices)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("object type"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the (content_type, object_id) index serves every lookup
        db_constraint=False,
    )
    object_id = models.CharField(_("object id"), max_length=64)
    # A bulk create is recorded once per run of consecutive primary keys (ADR 0006): the record
    # covers every object whose key lies in [object_first, object_last].
    object_first = models.BigIntegerField(_("first object id"), null=True, blank=True)
    object_last = models.BigIntegerField(_("last object id"), null=True, blank=True)
    object_repr = models.CharField(_("object"), max_length=200)
    prechange_data = models.JSONField(_("before"), null=True, blank=True)
    postchange_data = models.JSONField(_("after"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("change record")
        verbose_name_plural = _("change records")
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["request_id"]),
            # Only range records (bulk creates) are in it: a handful per import.
            models.Index(
                fields=["content_type", "object_last"],
                condition=models.Q(object_last__isnull=False),
                name="core_change_object_range",
            ),
        ]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"

    def diff(self) -> list[tuple[str, object, object]]:
        """Return (field, before, after) for every field whose value changed."""
        before = self.prechange_data or {}
        after = self.postchange_data or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
