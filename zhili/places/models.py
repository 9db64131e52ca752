"""地: divisions, grids, buildings, houses and roads (R-0-elements, R-7.1-people, R-8.1-grid).

Geometry is CGCS2000 lon/lat (EPSG:4490), stored portably with indexed bounding boxes.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import GeometryField
from zhili.core.geo import length_m
from zhili.core.models import BaseModel, GeoModel, TreeModel
from zhili.places.choices import (
    BuildingStructure,
    BuildingUse,
    DivisionLevel,
    GridLevel,
    HouseUse,
    RoadClass,
)

AREAL = ("Polygon", "MultiPolygon")


class Division(TreeModel, GeoModel):
    """An administrative division: the town and its villages and communities (GB/T 2260-style codes)."""

    code = models.CharField(
        _("division code"),
        max_length=12,
        unique=True,
        help_text=_("12-digit statistical division code (GB/T 2260 county code + town + village)."),
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=DivisionLevel.choices)
    geometry = GeometryField(_("boundary"), geom_types=AREAL, null=True, blank=True)

    class Meta(TreeModel.Meta, GeoModel.Meta):
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.code and not (self.code.isdigit() and len(self.code) == 12):
            raise ValidationError({"code": _("A division code is 12 digits.")})


class Grid(TreeModel, GeoModel):
    """A management grid (网格) with its leader and members (R-8.1-grid)."""

    code = models.CharField(_("grid code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=GridLevel.choices, default=GridLevel.BASIC)
    division = models.ForeignKey(
        Division, verbose_name=_("division"), on_delete=models.PROTECT, related_name="grids"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_grids",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("grid members"), blank=True, related_name="member_grids"
    )
    geometry = GeometryField(_("boundary"), geom_types=AREAL, null=True, blank=True)

    class Meta(TreeModel.Meta, GeoModel.Meta):
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.parent_id and self.parent and self.level <= self.parent.level:
            raise ValidationError({"level": _("A grid's level must be below its parent's level.")})


class Building(GeoModel):
    """A building with its footprint (以房管人, R-7.1-house)."""

    code = models.CharField(_("building code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=200)
    division = models.ForeignKey(
        Division, verbose_name=_("division"), on_delete=models.PROTECT, related_name="buildings"
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
    )
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    use = models.CharField(
        _("use"), max_length=16, choices=BuildingUse.choices, default=BuildingUse.RESIDENTIAL
    )
    structure = models.CharField(_("structure"), max_length=16, choices=BuildingStructure.choices, blank=True)
    built_year = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True)
    is_self_built = models.BooleanField(_("self-built house"), default=False)
    geometry = GeometryField(_("footprint"), geom_types=AREAL, null=True, blank=True)

    class Meta(GeoModel.Meta):
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self):
        return self.name or self.address

    def clean(self):
        super().clean()
        if self.floors is not None and not 1 <= self.floors <= 200:
            raise ValidationError({"floors": _("Floors must be between 1 and 200.")})


class House(BaseModel):
    """A dwelling or room: building → unit → room (address hierarchy of R-7.1-people)."""

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="houses"
    )
    code = models.CharField(
        _("house code"),
        max_length=48,
        unique=True,
        blank=True,
        help_text=_("Left empty, it is made from the building code, unit and room."),
    )
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("floor"), default=1)
    room = models.CharField(_("room"), max_length=10)
    area = models.DecimalField(_("floor area (sq. m)"), max_digits=8, decimal_places=2, null=True, blank=True)
    use = models.CharField(_("use"), max_length=16, choices=HouseUse.choices, default=HouseUse.OWNER)

    class Meta(BaseModel.Meta):
        verbose_name = _("house")
        verbose_name_plural = _("houses")

    def __str__(self):
        building = self.building.name or self.building.address if self.building_id else ""
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{building}{unit}{self.room}室"

    def clean(self):
        super().clean()
        if not self.code and self.building_id:
            self.code = f"{self.building.code}-{self.unit or '0'}-{self.room}"


class Road(GeoModel):
    """A road centre line; its length is measured in metres on the CGCS2000 ellipsoid."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("road code"), max_length=32, unique=True)
    road_class = models.CharField(
        _("class"), max_length=16, choices=RoadClass.choices, default=RoadClass.BRANCH
    )
    lanes = models.PositiveSmallIntegerField(_("lanes"), default=2)
    length_m = models.FloatField(_("length (m)"), null=True, blank=True, editable=False)
    division = models.ForeignKey(
        Division,
        verbose_name=_("division"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roads",
    )
    geometry = GeometryField(
        _("centre line"), geom_types=("LineString", "MultiLineString"), null=True, blank=True
    )

    class Meta(GeoModel.Meta):
        verbose_name = _("road")
        verbose_name_plural = _("roads")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.length_m = round(length_m(self.geometry), 1) if self.geometry is not None else None
        super().save(*args, **kwargs)


class WaterBody(GeoModel):
    """A river, lake, pond or canal: part of the town's own base map (R-0-twin)."""

    class Kind(models.TextChoices):
        RIVER = "river", _("River")
        LAKE = "lake", _("Lake")
        POND = "pond", _("Pond")
        CANAL = "canal", _("Canal")
        RESERVOIR = "reservoir", _("Reservoir")

    code = models.CharField(_("water body code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.POND)
    division = models.ForeignKey(
        Division,
        verbose_name=_("division"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="water_bodies",
    )
    geometry = GeometryField(_("outline"), geom_types=AREAL, null=True, blank=True)

    class Meta(GeoModel.Meta):
        verbose_name = _("water body")
        verbose_name_plural = _("water bodies")

    def __str__(self):
        return self.name
