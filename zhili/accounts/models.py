"""Platform users and their sign-in state: status, lockout, password history, sessions, 2FA (R-4.4, R-10.3-ident)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import SensitiveCharField
from zhili.core.models import BaseModel


class UserStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    DISABLED = "disabled", _("Disabled")


class User(AbstractUser):
    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    phone = SensitiveCharField(_("phone"), max_length=20, blank=True, mask="phone")
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set for generated and reset passwords: the user changes it at the next sign-in."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=UserStatus.choices, default=UserStatus.ACTIVE, db_index=True
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    password_changed_at = models.DateTimeField(
        _("password changed at"), null=True, blank=True, editable=False
    )
    failed_logins = models.PositiveIntegerField(_("failed sign-ins"), default=0, editable=False)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True, editable=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # "unmask": see users' phone numbers in clear (R-10.3-rbac).
        default_permissions = ("add", "change", "delete", "view", "unmask")

    def __str__(self):
        return self.real_name or self.username

    def save(self, *args, **kwargs):
        # Only an approved, enabled, not deleted account may sign in (Django checks is_active).
        self.is_active = self.status == UserStatus.ACTIVE and self.deleted_at is None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and ("status" in update_fields or "deleted_at" in update_fields):
            kwargs["update_fields"] = {*update_fields, "is_active"}
        super().save(*args, **kwargs)

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def has_second_factor(self) -> bool:
        return (
            TotpDevice.objects.filter(user=self, confirmed=True).exists()
            or WebAuthnCredential.objects.filter(user=self).exists()
        )

    @property
    def requires_second_factor(self) -> bool:
        """True if one of the user's roles requires two-factor sign-in (system.Role.require_2fa)."""
        roles = getattr(self, "roles", None)
        return roles is not None and roles.filter(require_2fa=True).exists()


class PasswordHistory(models.Model):
    """Hashes of earlier passwords, so that the last N cannot be reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("password history")
        verbose_name_plural = _("password history")

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d}"


class LoginAttempt(models.Model):
    """Every sign-in attempt, for per-account lockout, per-IP throttling and the captcha rule."""

    username = models.CharField(_("username"), max_length=150, db_index=True)
    ip = models.CharField(_("IP address"), max_length=45, db_index=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    success = models.BooleanField(_("success"), default=False)
    reason = models.CharField(_("reason"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("sign-in attempt")
        verbose_name_plural = _("sign-in attempts")

    def __str__(self):
        return f"{self.username} {self.ip} {'ok' if self.success else self.reason}"


class IpRule(BaseModel):
    """Sign-in allow/deny list entry (R-10.3-ident). With any allow rule, only listed networks may sign in."""

    class Action(models.TextChoices):
        ALLOW = "allow", _("Allow")
        DENY = "deny", _("Deny")

    network = models.CharField(
        _("network"), max_length=50, help_text=_("An IP address or network, e.g. 10.1.0.0/16.")
    )
    action = models.CharField(_("action"), max_length=5, choices=Action.choices, default=Action.DENY)
    enabled = models.BooleanField(_("enabled"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("sign-in IP rule")
        verbose_name_plural = _("sign-in IP rules")
        ordering = ["action", "network"]

    def __str__(self):
        return f"{self.get_action_display()} {self.network}"

    def clean(self):
        import ipaddress

        from django.core.exceptions import ValidationError

        try:
            self.network = str(ipaddress.ip_network(self.network.strip(), strict=False))
        except ValueError:
            raise ValidationError({"network": _("Enter an IP address or a network such as 10.1.0.0/16.")})


class UserSession(models.Model):
    """A signed-in browser session; only a digest of the session key is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    key_digest = models.CharField(max_length=64, unique=True)
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self):
        return f"{self.user} {self.ip} {self.created_at:%Y-%m-%d %H:%M}"


class TotpDevice(models.Model):
    """An RFC 6238 authenticator app (one per user)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    # Encrypted at rest like every sensitive field (SM4/AES per settings, key outside the database).
    secret = SensitiveCharField(max_length=64)
    confirmed = models.BooleanField(default=False)
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"TOTP {self.user}"


class RecoveryCode(models.Model):
    """A one-time recovery code; only its keyed digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"recovery code of {self.user}"


class WebAuthnCredential(models.Model):
    """A FIDO2/WebAuthn security key (the modern USB key, R-10.3-mfa)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="webauthn_credentials")
    name = models.CharField(_("name"), max_length=100)
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.TextField()
    sign_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")

    def __str__(self):
        return self.name


class ApiToken(models.Model):
    """A revocable, expiring API key of one user (see ``zhili.accounts.tokens``)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(
        _("key prefix"), max_length=16, help_text=_("First characters of the key, to tell tokens apart.")
    )
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_valid(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def touch(self) -> bool:
        """Record use, at most once a minute (no write per request); True if recorded now."""
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
            return True
        return False

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
