"""Password policy as configurable profiles (R-10.3-ident).

The two authorities disagree, so the profile is a setting (``ZHILI_AUTH["PASSWORD_PROFILE"]``):

* ``mlps`` (default): what 等保 assessors check — at least 8 characters with at least 3 of the 4
  character classes, and a forced change every 90 days.
* ``asvs``: OWASP ASVS 5 / NIST SP 800-63B — at least 12 characters, no composition rules, no rotation.

Both refuse common and breached-style passwords (Django's list of 20,000 plus a bundled Chinese list
and "pinyin name + digits" patterns such as ``zhangwei1988``), passwords containing the username,
and the last N passwords of the user.
"""

import gzip
import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zhili.accounts.conf import auth_setting, password_profile

ZH_LIST = Path(__file__).parent / "data" / "common-passwords-zh.txt"

# Common surnames and given-name syllables (pinyin): "name + digits" is the most common Chinese pattern.
SURNAMES = (  # noqa: SIM905
    "wang li zhang liu chen yang zhao huang zhou wu xu sun hu zhu gao lin he guo ma luo liang song "
    "zheng xie han tang feng yu dong xiao cheng cao yuan deng fu shen zeng peng lv su lu jiang cai jia "
    "ding wei xue ye yan pan du dai xia zhong tian ren fan fang shi yao tan jin qian"
).split()
GIVEN = (  # noqa: SIM905
    "wei fang na min jing li qiang lei jun yang yong yan jie tao ming chao xiu xia ping gang gui hua "
    "hong ying fei bin bo hui lin dan peng hao yu yun xin kai jian jia lan long mei ning qing rui shan "
    "shu tian ting wen xiang xue yi ze zhen zhi zi an bing chen cheng dong feng guo hai han jin juan "
    "kun liang lu mo na nan qi qin rong shuang song ting wu xi xiao xu yue zhong zhu"
).split()
_GIVEN_RE = "(?:" + "|".join(sorted(set(GIVEN), key=len, reverse=True)) + ")"
PINYIN_NAME = re.compile(
    "^(?:" + "|".join(sorted(SURNAMES, key=len, reverse=True)) + ")" + _GIVEN_RE + "{1,2}$"
)
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset:
    with gzip.open(CommonPasswordValidator().DEFAULT_PASSWORD_LIST_PATH, "rt", encoding="utf-8") as f:
        words = {line.strip().lower() for line in f}
    for line in ZH_LIST.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            words.add(line.strip().lower())
    return frozenset(words)


def character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def is_common(password: str) -> bool:
    """Listed passwords, and list entries or pinyin names decorated with digits and symbols."""
    lowered = password.lower()
    words = common_passwords()
    if lowered in words:
        return True
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", lowered)
    if core and (core in words and len(core) >= 4 or PINYIN_NAME.match(core)):
        return True
    if lowered.isdigit() and len(set(lowered)) <= 2:
        return True
    return any(lowered in row or lowered in row[::-1] for row in KEYBOARD_ROWS)


class PolicyValidator:
    """One validator for the active profile; listed in ``AUTH_PASSWORD_VALIDATORS``."""

    def validate(self, password, user=None):
        profile = password_profile()
        errors = []
        if len(password) < profile["min_length"]:
            errors.append(
                ngettext(
                    "The password must have at least %(n)d character.",
                    "The password must have at least %(n)d characters.",
                    profile["min_length"],
                )
                % {"n": profile["min_length"]}
            )
        if profile["min_classes"] and character_classes(password) < profile["min_classes"]:
            errors.append(
                _(
                    "The password must mix at least %(n)d of: lower-case letters, capital letters, "
                    "digits, symbols."
                )
                % {"n": profile["min_classes"]}
            )
        if is_common(password):
            errors.append(_("This password is too common or has appeared in breaches."))
        username = (getattr(user, "username", "") or "").lower()
        if username and len(username) >= 3 and username in password.lower():
            errors.append(_("The password must not contain the username."))
        if user is not None and getattr(user, "pk", None) and was_used_recently(user, password):
            errors.append(
                _("The password must differ from your last %(n)d passwords.")
                % {"n": auth_setting("PASSWORD_HISTORY")}
            )
        if errors:
            raise ValidationError(errors, code="password_policy")

    def password_changed(self, password, user=None):
        if user is not None and user.pk and user.password:
            remember_password(user)

    def get_help_text(self):
        profile = password_profile()
        text = _("At least %(n)d characters") % {"n": profile["min_length"]}
        if profile["min_classes"]:
            text += _(", with %(n)d of: lower-case, capitals, digits, symbols") % {
                "n": profile["min_classes"]
            }
        return text + _("; not a common password, not your username, not one of your last passwords.")


def was_used_recently(user, password: str) -> bool:
    from zhili.accounts.models import PasswordHistory

    keep = auth_setting("PASSWORD_HISTORY")
    if keep <= 0:
        return False
    hashes = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[:keep])
    if not hashes:
        from django.contrib.auth import get_user_model

        current = get_user_model().objects.filter(pk=user.pk).values_list("password", flat=True).first()
        hashes = [current] if current else []
    return any(check_password(password, encoded) for encoded in hashes)


def remember_password(user) -> None:
    from zhili.accounts.models import PasswordHistory

    keep = auth_setting("PASSWORD_HISTORY")
    if keep <= 0 or not user.has_usable_password():
        return
    PasswordHistory.objects.create(user=user, password=user.password)
    stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[keep:]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()


def password_expired(user) -> bool:
    """True when the mlps profile's maximum password age has passed (never for asvs)."""
    days = password_profile()["max_age_days"]
    if not days or not user.has_usable_password():
        return False
    changed = user.password_changed_at or user.date_joined
    return changed is not None and timezone.now() - changed > timedelta(days=days)
