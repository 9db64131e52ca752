from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class HouseholdType(models.TextChoices):
    """Household types of R-8.1-grid: 常住户 / 流动户 / 空壳户."""

    PERMANENT = "permanent", _("Permanent household")
    FLOATING = "floating", _("Floating household")
    EMPTY = "empty", _("Empty-shell household")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("Registered resident")
    PERMANENT = "permanent", _("Non-registered permanent resident")
    FLOATING = "floating", _("Floating population")


class PoliticalStatus(models.TextChoices):
    MASSES = "masses", _("Masses")
    PARTY = "party", _("CPC member")
    PROBATIONARY = "probationary", _("Probationary CPC member")
    LEAGUE = "league", _("Communist Youth League member")
    OTHER = "other", _("Other party")


class Education(models.TextChoices):
    NONE = "none", _("None")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary")
    SENIOR = "senior", _("Senior secondary / vocational")
    COLLEGE = "college", _("College")
    BACHELOR = "bachelor", _("Bachelor")
    POSTGRADUATE = "postgraduate", _("Postgraduate")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class TagCategory(models.TextChoices):
    CARE = "care", _("Care")
    KEY = "key", _("Key person")
    PARTY = "party", _("Party")
    SERVICE = "service", _("Service")


class FloatingReason(models.TextChoices):
    WORK = "work", _("Work")
    BUSINESS = "business", _("Business")
    STUDY = "study", _("Study")
    FAMILY = "family", _("Joining family")
    OTHER = "other", _("Other")


class CertificateStatus(models.TextChoices):
    NONE = "none", _("Not applied")
    APPLIED = "applied", _("Applied")
    ISSUED = "issued", _("Issued")
    EXPIRED = "expired", _("Expired")


class FloatingStatus(models.TextChoices):
    RESIDING = "residing", _("Residing")
    LEFT = "left", _("Left")
