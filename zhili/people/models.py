"""人: residents, households, tags and floating-population registrations (R-7.1-people).

ID numbers, phones and addresses are declared sensitive: the security layer encrypts and masks
them in one place.
"""

import contextlib

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import SensitiveCharField
from zhili.core.identifiers import normalize_resident_id, parse_resident_id, validate_resident_id
from zhili.core.models import BaseModel
from zhili.people.choices import (
    CertificateStatus,
    Education,
    FloatingReason,
    FloatingStatus,
    HouseholdType,
    PoliticalStatus,
    Relation,
    ResidenceType,
    ResidentStatus,
    Sex,
    TagCategory,
)


class Tag(BaseModel):
    """A label for people who need attention: 独居老人, 残疾人, 重点人员, 党员…"""

    name = models.CharField(_("name"), max_length=30, unique=True)
    category = models.CharField(
        _("category"), max_length=16, choices=TagCategory.choices, default=TagCategory.CARE
    )
    color = models.CharField(_("colour"), max_length=7, default="#0d6efd")
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["category", "name"]

    def __str__(self):
        return self.name


class Household(BaseModel):
    """A household (户) living in a house, of type 常住户 / 流动户 / 空壳户 (R-8.1-grid)."""

    number = models.CharField(_("household number"), max_length=32, unique=True)
    household_type = models.CharField(
        _("household type"), max_length=16, choices=HouseholdType.choices, default=HouseholdType.PERMANENT
    )
    house = models.ForeignKey(
        "places.House",
        verbose_name=_("house"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
        db_index=False,  # the composite index led by grid serves grid lookups
    )
    head_name = models.CharField(_("head of household"), max_length=50, blank=True)
    address = SensitiveCharField(_("address"), max_length=200, blank=True, mask="address")
    phone = SensitiveCharField(_("contact phone"), max_length=20, blank=True, mask="phone")

    class Meta(BaseModel.Meta):
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [models.Index(fields=["grid", "household_type"])]

    def __str__(self):
        return f"{self.number} {self.head_name}".strip()


class Resident(BaseModel):
    """A person living in or registered with the town (R-7.1-people).

    Birth date and sex are derived from the GB 11643 ID number, never typed twice.
    """

    name = models.CharField(_("full name"), max_length=50)
    id_number = SensitiveCharField(
        _("ID number"), max_length=18, unique=True, mask="id_number", validators=[validate_resident_id]
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, editable=False)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, default="汉族")
    phone = SensitiveCharField(_("phone"), max_length=20, blank=True, mask="phone")
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation = models.CharField(_("relation to head"), max_length=16, choices=Relation.choices, blank=True)
    house = models.ForeignKey(
        "places.House",
        verbose_name=_("house"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
        db_index=False,  # the composite index led by grid serves grid lookups
    )
    residence_type = models.CharField(
        _("residence type"), max_length=16, choices=ResidenceType.choices, default=ResidenceType.REGISTERED
    )
    address = SensitiveCharField(_("address"), max_length=200, blank=True, mask="address")
    political_status = models.CharField(
        _("political status"), max_length=16, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    education = models.CharField(_("education"), max_length=16, choices=Education.choices, blank=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="residents")
    notes = models.TextField(_("notes"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        indexes = [
            # Lists are filtered by grid and shown newest first: the index gives both, so a page of
            # "grid G with tag T" reads a grid's few hundred rows in order and stops at 50 matches.
            models.Index(fields=["grid", "id"], name="people_resident_grid_id_order"),
            models.Index(fields=["name"]),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """Derive birth date and sex from the ID number (its validity is the field validator's job)."""
        super().clean()
        if self.id_number:
            self.id_number = normalize_resident_id(self.id_number)
            with contextlib.suppress(ValueError, IndexError):
                self.birth_date, self.sex = parse_resident_id(self.id_number)

    def save(self, *args, **kwargs):
        if self.id_number and (self.birth_date is None or not self.sex):
            with contextlib.suppress(ValueError, IndexError):
                self.birth_date, self.sex = parse_resident_id(self.id_number)
        super().save(*args, **kwargs)

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        today = timezone.localdate()
        return (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )


class FloatingRegistration(BaseModel):
    """Registration of a floating resident, with the residence certificate (居住证) application."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="floating_registrations"
    )
    origin = models.CharField(_("place of household registration"), max_length=200)
    arrival_date = models.DateField(_("arrival date"))
    reason = models.CharField(
        _("reason"), max_length=16, choices=FloatingReason.choices, default=FloatingReason.WORK
    )
    house = models.ForeignKey(
        "places.House",
        verbose_name=_("lives in"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="floating_registrations",
    )
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    certificate_status = models.CharField(
        _("residence certificate"),
        max_length=16,
        choices=CertificateStatus.choices,
        default=CertificateStatus.NONE,
    )
    certificate_number = models.CharField(_("certificate number"), max_length=32, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FloatingStatus.choices, default=FloatingStatus.RESIDING
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("floating population registration")
        verbose_name_plural = _("floating population registrations")

    def __str__(self):
        return f"{self.resident} {self.arrival_date}"

    def clean(self):
        super().clean()
        if self.valid_until and self.arrival_date and self.valid_until < self.arrival_date:
            raise ValidationError(
                {"valid_until": _("The certificate cannot expire before the arrival date.")}
            )
        if self.certificate_status == CertificateStatus.ISSUED and not self.certificate_number:
            raise ValidationError({"certificate_number": _("An issued certificate needs its number.")})
