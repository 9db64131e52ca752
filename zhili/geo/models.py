"""Map layer settings an administrator edits as data: title, public access, style (R-0-twin).

A layer exists without a row here (every registered model with geometry is a layer); a row
overrides its title, marks it public (served to anonymous OGC/GeoJSON clients) and gives it a
style: one colour, colours by category, or colours by value range (graduated).
"""

import json
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.models import BaseModel

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class StyleKind(models.TextChoices):
    SINGLE = "single", _("Single colour")
    CATEGORIZED = "categorized", _("By category")
    GRADUATED = "graduated", _("By value range")


class LayerStyle(BaseModel):
    """Title, access and style of one map layer."""

    layer = models.CharField(
        _("layer"), max_length=100, unique=True, help_text=_("Layer name, e.g. places.building.")
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Served to anyone, without sign-in, through OGC services and GeoJSON (masked)."),
    )
    visible = models.BooleanField(_("shown by default"), default=True)
    kind = models.CharField(_("style"), max_length=16, choices=StyleKind.choices, default=StyleKind.SINGLE)
    attribute = models.CharField(
        _("styled by attribute"),
        max_length=64,
        blank=True,
        help_text=_("For category or value-range styles."),
    )
    stroke_color = models.CharField(_("line colour"), max_length=7, default="#0d6efd")
    fill_color = models.CharField(_("fill colour"), max_length=7, default="#0d6efd")
    fill_opacity = models.FloatField(_("fill opacity"), default=0.4)
    stroke_width = models.FloatField(_("line width"), default=1.0)
    classes = models.TextField(
        _("classes"),
        blank=True,
        help_text=_(
            'JSON list. By category: [{"value": "residential", "color": "#ff0000", "label": "…"}]; '
            'by value range: [{"min": 0, "max": 3, "color": "#fee5d9"}].'
        ),
    )
    order = models.PositiveSmallIntegerField(_("drawing order"), default=100)

    class Meta(BaseModel.Meta):
        verbose_name = _("layer style")
        verbose_name_plural = _("layer styles")
        ordering = ["order", "layer"]

    def __str__(self):
        return self.title or self.layer

    def parsed_classes(self) -> list[dict]:
        if not self.classes.strip():
            return []
        return json.loads(self.classes)

    def clean(self):
        super().clean()
        from zhili.geo.layers import layers

        errors = {}
        if self.layer and layers.get(self.layer) is None:
            errors["layer"] = _("No layer of that name.")
        for name in ("stroke_color", "fill_color"):
            if getattr(self, name) and not COLOR.match(getattr(self, name)):
                errors[name] = _("Use a colour like #1f77b4.")
        if self.fill_opacity is not None and not 0 <= self.fill_opacity <= 1:
            errors["fill_opacity"] = _("Between 0 and 1.")
        if self.stroke_width is not None and not 0 <= self.stroke_width <= 20:
            errors["stroke_width"] = _("Between 0 and 20.")
        try:
            classes = self.parsed_classes()
            if not isinstance(classes, list) or not all(
                isinstance(c, dict) and COLOR.match(str(c.get("color", ""))) for c in classes
            ):
                raise ValueError
            if self.kind == StyleKind.GRADUATED:
                for c in classes:
                    float(c["min"]), float(c["max"])
            if self.kind == StyleKind.CATEGORIZED:
                for c in classes:
                    c["value"]  # noqa: B018
        except (ValueError, TypeError, KeyError):
            errors["classes"] = _("Not a valid list of classes (see the help text).")
        if self.kind != StyleKind.SINGLE:
            if not self.attribute:
                errors["attribute"] = _("Choose the attribute that sets the colour.")
            elif "layer" not in errors and self.layer:
                layer = layers.get(self.layer)
                if layer is not None and self.attribute not in {f.name for f in layer.source.fields()}:
                    errors["attribute"] = _("The layer has no attribute of that name.")
        if errors:
            raise ValidationError(errors)


class LayerVersion(models.Model):
    """A counter per layer, raised when its data change: tile caches are keyed by it."""

    layer = models.CharField(max_length=100, primary_key=True)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("layer version")
        default_permissions = ()

    def __str__(self):
        return f"{self.layer}@{self.version}"
