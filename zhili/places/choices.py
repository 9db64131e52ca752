from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    TOWN = "town", _("Town / subdistrict")
    VILLAGE = "village", _("Administrative village")
    COMMUNITY = "community", _("Community")


class GridLevel(models.IntegerChoices):
    """Four levels of grid management (R-8.1-grid)."""

    TOWN = 1, _("Town grid")
    VILLAGE = 2, _("Village/community grid")
    BASIC = 3, _("Basic grid")
    MICRO = 4, _("Micro grid")


class BuildingUse(models.TextChoices):
    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Commercial")
    MIXED = "mixed", _("Mixed use")
    PUBLIC = "public", _("Public service")
    INDUSTRIAL = "industrial", _("Industrial")
    AGRICULTURAL = "agricultural", _("Agricultural")


class BuildingStructure(models.TextChoices):
    CONCRETE = "concrete", _("Reinforced concrete")
    MASONRY = "masonry", _("Brick and concrete")
    STEEL = "steel", _("Steel")
    WOOD = "wood", _("Timber / earth")
    OTHER = "other", _("Other")


class HouseUse(models.TextChoices):
    OWNER = "owner", _("Owner-occupied")
    RENTED = "rented", _("Rented out")
    VACANT = "vacant", _("Vacant")
    BUSINESS = "business", _("Business use")


class RoadClass(models.TextChoices):
    ARTERIAL = "arterial", _("Arterial road")
    SECONDARY = "secondary", _("Secondary road")
    BRANCH = "branch", _("Branch road")
    TOWNSHIP = "township", _("Township road")
    VILLAGE = "village", _("Village road")
