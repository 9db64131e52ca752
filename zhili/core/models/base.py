"""Abstract bases every registered model builds on (R-11.1: time stamps, source, owner)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import BBoxField, GeometryField

DEFAULT_PERMISSIONS = ("add", "change", "delete", "view", "import", "export", "unmask")


class DataSource(models.TextChoices):
    MANUAL = "manual", _("Manual entry")
    IMPORT = "import", _("File import")
    API = "api", _("API")
    DEVICE = "device", _("Device")
    SYNC = "sync", _("Department exchange")
    DEMO = "demo", _("Demo data")


class RestrictedQuerySet(models.QuerySet):
    """QuerySet with the one permission path: ``Model.objects.restrict(user, action)``."""

    def restrict(self, user, action: str = "view"):
        """Return only the rows ``user`` may act on with ``action`` (view, change, delete…)."""
        from zhili.core.permissions import restrict

        return restrict(self, user, action)


class BaseModel(models.Model):
    """Time stamps, authors, data source and owning unit on every record (R-11.1).

    ``owner_unit`` is the department whose data scope the record belongs to. Subclasses that
    declare their own ``Meta`` inherit from ``BaseModel.Meta`` to keep the import/export
    permissions.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The authors are stamped by the machinery from the signed-in user, never taken from input,
    # so they carry no database foreign-key constraint (``db_constraint=False``): the database
    # checked one key per author per inserted row, at commit, which cost an import of 100,000
    # rows about a tenth of its time on PostgreSQL. Deleting a user still sets them to NULL
    # (Django applies ``on_delete``); ADR 0005 gives the rule.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_constraint=False,
    )
    # No index: nothing looks rows up by their last editor, and every index costs each write
    # (a million-row import). Deleting a user (rare: users are disabled) scans instead.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    data_source = models.CharField(
        _("data source"),
        max_length=16,
        choices=DataSource.choices,
        default=DataSource.MANUAL,
        editable=False,
    )
    owner_unit = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("owning unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True
        default_permissions = DEFAULT_PERMISSIONS

    #: Field names shown nowhere in forms and written by the machinery itself.
    BASE_FIELDS = ("created_at", "updated_at", "created_by", "updated_by", "data_source", "owner_unit")

    def get_absolute_url(self):
        from django.urls import reverse

        meta = self._meta
        return reverse(f"{meta.app_label}:{meta.model_name}_detail", args=[self.pk])


class TreeModel(BaseModel):
    """A node of a tree with a materialised path (``/1/5/9/``) for "this unit and below" queries."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("tree path"), max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False, default=0)

    class Meta(BaseModel.Meta):
        abstract = True

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        node = self.parent
        while node is not None and self.pk is not None:
            if node.pk == self.pk:
                raise ValidationError({"parent": _("A node cannot be placed under itself.")})
            node = node.parent

    def save(self, *args, **kwargs):
        old_path = self.path
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs = {k: v for k, v in kwargs.items() if k in ("using",)}
        self.path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        self.depth = self.path.count("/") - 2
        super().save(*args, **{**kwargs, "force_insert": False})
        if old_path and old_path != self.path:
            self._rewrite_descendant_paths(old_path)

    def _rewrite_descendant_paths(self, old_path: str) -> None:
        for node in type(self).objects.filter(path__startswith=old_path).exclude(pk=self.pk):
            node.path = self.path + node.path[len(old_path) :]
            node.depth = node.path.count("/") - 2
            node.save(update_fields=["path", "depth"])

    def descendants(self, include_self: bool = True):
        """Return this node's subtree as a queryset."""
        qs = type(self).objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)

    def ancestors(self):
        """Return the nodes from the root down to the parent."""
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        return type(self).objects.filter(pk__in=ids).order_by("depth")


class GeoModel(BaseModel):
    """A record with a geometry (EPSG:4490 lon/lat) and an indexed bounding box.

    Subclasses override ``geometry`` to restrict its types, e.g.
    ``geometry = GeometryField(_("footprint"), geom_types=("Polygon", "MultiPolygon"))``.
    """

    geometry = GeometryField(_("geometry"), blank=True, null=True)
    bbox_minx = BBoxField(index=0)
    bbox_miny = BBoxField(index=1)
    bbox_maxx = BBoxField(index=2)
    bbox_maxy = BBoxField(index=3)

    class Meta(BaseModel.Meta):
        abstract = True
        indexes = [
            models.Index(
                fields=["bbox_minx", "bbox_miny", "bbox_maxx", "bbox_maxy"],
                name="%(app_label)s_%(class)s_bbox",
            )
        ]
