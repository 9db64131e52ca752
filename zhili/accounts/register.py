"""Registrations and navigation of the accounts app (系统管理 › 用户, 在线用户, 令牌, 登录 IP 规则)."""

from django.utils.translation import gettext_lazy as _

from zhili.accounts.models import IpRule
from zhili.core.registry import register, registry

register(
    IpRule,
    group="system",
    icon="shield-lock",
    search_fields=("network", "note"),
    list_fields=("network", "action", "enabled", "note"),
    filter_fields=("action", "enabled"),
    order=70,
)
registry.add_nav_link(
    "system", _("Users"), "accounts:user_list", icon="people", perm="accounts.view_user", order=5
)
registry.add_nav_link(
    "system",
    _("Online users"),
    "accounts:online_users",
    icon="broadcast",
    perm="accounts.view_usersession",
    order=60,
)
registry.add_nav_link(
    "system", _("API tokens"), "accounts:token_list", icon="key", perm="accounts.view_apitoken", order=65
)
