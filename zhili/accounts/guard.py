"""Sign-in protection: IP allow/deny lists, per-IP throttling, account lockout, captcha rule (R-10.3-ident).

Every attempt is a ``LoginAttempt`` row (for counting) and an audit event (for the login log).
"""

import ipaddress
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from zhili.accounts.conf import auth_setting
from zhili.core import audit


def ip_allowed(ip: str) -> bool:
    """Deny rules win; if any allow rule exists the address must match one."""
    from zhili.accounts.models import IpRule

    rules = list(IpRule.objects.filter(enabled=True).values_list("network", "action"))
    if not rules:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False

    def matches(network: str) -> bool:
        try:
            return address in ipaddress.ip_network(network, strict=False)
        except ValueError:
            return False

    if any(action == "deny" and matches(net) for net, action in rules):
        return False
    allows = [net for net, action in rules if action == "allow"]
    return not allows or any(matches(net) for net in allows)


def recent_ip_failures(ip: str) -> int:
    from zhili.accounts.models import LoginAttempt

    since = timezone.now() - timedelta(minutes=auth_setting("IP_WINDOW_MINUTES"))
    return LoginAttempt.objects.filter(ip=ip, success=False, created_at__gte=since).count()


def ip_throttled(ip: str) -> bool:
    return recent_ip_failures(ip) >= auth_setting("IP_MAX_FAILURES")


def captcha_required(username: str, ip: str) -> bool:
    from zhili.accounts.models import User

    threshold = auth_setting("CAPTCHA_AFTER_FAILURES")
    if threshold <= 0:
        return False
    if recent_ip_failures(ip) >= auth_setting("CAPTCHA_AFTER_IP_FAILURES"):
        return True
    failures = User.objects.filter(username=username).values_list("failed_logins", flat=True).first()
    return bool(failures and failures >= threshold)


def record_attempt(username: str, ip: str, user_agent: str, *, success: bool, reason: str = "") -> None:
    from zhili.accounts.models import LoginAttempt

    LoginAttempt.objects.create(
        username=username[:150], ip=ip[:45], user_agent=user_agent[:300], success=success, reason=reason
    )


def register_failure(user) -> bool:
    """Count a wrong password for ``user``; lock the account at the threshold. Returns True if locked now."""
    from zhili.accounts.models import User

    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins"])
    if user.failed_logins >= auth_setting("LOCKOUT_FAILURES"):
        user.locked_until = timezone.now() + timedelta(minutes=auth_setting("LOCKOUT_MINUTES"))
        user.failed_logins = 0
        User.objects.filter(pk=user.pk).update(locked_until=user.locked_until, failed_logins=0)
        audit.emit(
            "auth.lockout",
            user=None,
            obj=user,
            success=False,
            details={"username": user.username, "until": user.locked_until.isoformat()},
        )
        return True
    return False


def clear_failures(user) -> None:
    from zhili.accounts.models import User

    if user.failed_logins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        user.failed_logins, user.locked_until = 0, None
