"""System management (系统管理): roles with data scope, posts, dictionaries, parameters (R-10.3-rbac)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.models import BaseModel


class DataScope(models.TextChoices):
    ALL = "all", _("All data")
    UNIT_AND_BELOW = "unit_and_below", _("Own unit and below")
    UNIT = "unit", _("Own unit only")
    SELF = "self", _("Own records only")
    CUSTOM = "custom", _("Custom units or grids")


class Duty(models.TextChoices):
    """三员分立: the three administrator duties nobody may combine (R-10.3-rbac)."""

    NONE = "none", _("None")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


class Role(BaseModel):
    """A set of permitted actions plus the rows they apply to (data scope)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    permissions = models.ManyToManyField(
        "auth.Permission", verbose_name=_("permissions"), blank=True, related_name="zhili_roles"
    )
    data_scope = models.CharField(
        _("data scope"), max_length=20, choices=DataScope.choices, default=DataScope.SELF
    )
    custom_units = models.ManyToManyField(
        "orgs.Department", verbose_name=_("custom units"), blank=True, related_name="+"
    )
    custom_grids = models.ManyToManyField(
        "places.Grid", verbose_name=_("custom grids"), blank=True, related_name="+"
    )
    require_2fa = models.BooleanField(
        _("require two-factor sign-in"),
        default=False,
        help_text=_("Members must enrol a second factor before they can use the system."),
    )
    builtin = models.BooleanField(_("built-in"), default=False, editable=False)
    duty = models.CharField(_("administrator duty"), max_length=20, choices=Duty.choices, default=Duty.NONE)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("users"), blank=True, related_name="roles"
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Post(BaseModel):
    """A position (岗位) such as 网格员 or 综治专干; users may hold several."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="posts"
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class Dictionary(BaseModel):
    """A list of choices admins may extend (e.g. 特殊人群类别)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    builtin = models.BooleanField(_("built-in"), default=False, editable=False)

    class Meta(BaseModel.Meta):
        verbose_name = _("dictionary")
        verbose_name_plural = _("dictionaries")
        ordering = ["code"]

    def __str__(self):
        return self.name


class DictionaryItem(BaseModel):
    dictionary = models.ForeignKey(
        Dictionary, verbose_name=_("dictionary"), on_delete=models.CASCADE, related_name="items"
    )
    value = models.CharField(_("value"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("dictionary item")
        verbose_name_plural = _("dictionary items")
        ordering = ["dictionary", "sort_order", "value"]
        constraints = [
            models.UniqueConstraint(fields=["dictionary", "value"], name="system_dictitem_unique_value")
        ]

    def __str__(self):
        return f"{self.dictionary}: {self.label}"


class SystemParameter(BaseModel):
    """A named setting stored in the database, editable by the system administrator."""

    key = models.CharField(_("key"), max_length=100, unique=True)
    value = models.CharField(_("value"), max_length=500, blank=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("system parameter")
        verbose_name_plural = _("system parameters")
        ordering = ["key"]

    def __str__(self):
        return self.key


class AuthzState(models.Model):
    """One row: a counter bumped by every change that can alter someone's permissions or scope.

    Each process caches users' role grants and scope context and re-validates them with one
    cheap read of this counter per request, so a revocation takes effect on the next request
    in every worker process.
    """

    version = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"authz v{self.version}"


def duty_conflicts(role_duty: str, users, exclude_role=None) -> list:
    """Return the users who already hold a different administrator duty than ``role_duty``."""
    if role_duty == Duty.NONE:
        return []
    users = list(users)
    others = Role.objects.filter(users__in=users).exclude(duty__in=[Duty.NONE, role_duty])
    if exclude_role is not None and exclude_role.pk:
        others = others.exclude(pk=exclude_role.pk)
    clash = set(others.values_list("users", flat=True))
    return [u for u in users if u.pk in clash]


def separation_error(conflicts) -> ValidationError:
    names = ", ".join(str(u) for u in conflicts)
    return ValidationError(
        _(
            "Separation of duties (三员分立): %(users)s already hold another of the system, security "
            "and audit administrator roles; nobody may hold two."
        ),
        params={"users": names},
        code="separation_of_duties",
    )
