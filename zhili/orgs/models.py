"""组织: government departments (a tree) and business units (USCC-identified)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import GeometryField, SensitiveCharField
from zhili.core.identifiers import validate_uscc
from zhili.core.models import GeoModel, TreeModel
from zhili.orgs.choices import DepartmentKind, Industry, UnitStatus, UnitType


class Department(TreeModel):
    """A unit of the town's organization: town government, offices, stations, village committees
    (R-4.1.5-settings). Data scope ("own unit and below") follows this tree."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=DepartmentKind.choices, default=DepartmentKind.OFFICE
    )
    head_name = models.CharField(_("head"), max_length=50, blank=True)
    phone = models.CharField(_("office phone"), max_length=30, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(TreeModel.Meta):
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path", "sort_order"]

    def __str__(self):
        return self.name


class BusinessUnit(GeoModel):
    """A business or organization with a unified social credit code (GB 32100)."""

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    unit_type = models.CharField(
        _("unit type"), max_length=16, choices=UnitType.choices, default=UnitType.ENTERPRISE
    )
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    phone = SensitiveCharField(_("contact phone"), max_length=20, blank=True, mask="phone")
    address = models.CharField(_("business address"), max_length=200, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.OPERATING
    )
    division = models.ForeignKey(
        "places.Division",
        verbose_name=_("division"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="business_units",
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="business_units",
    )
    geometry = GeometryField(_("location"), geom_types=("Point",), null=True, blank=True)

    class Meta(GeoModel.Meta):
        verbose_name = _("business unit")
        verbose_name_plural = _("business units")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.uscc:
            self.uscc = self.uscc.strip().upper()
