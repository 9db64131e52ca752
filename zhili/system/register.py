"""Registrations of the system management models: pages, API, import/export come from core."""

from django.utils.translation import gettext_lazy as _

from zhili.core.registry import register, registry
from zhili.system.forms import RoleForm
from zhili.system.models import Dictionary, DictionaryItem, Post, Role, SystemParameter
from zhili.system.serializers import RoleSerializer

register(
    Role,
    group="system",
    icon="person-badge",
    natural_key="code",
    search_fields=("name", "code"),
    list_fields=("name", "code", "duty", "data_scope", "require_2fa", "builtin"),
    filter_fields=("duty", "data_scope", "require_2fa", "builtin"),
    form=RoleForm,
    serializer=RoleSerializer,
    order=10,
)
register(
    Post,
    group="system",
    icon="briefcase",
    natural_key="code",
    search_fields=("name", "code"),
    list_fields=("name", "code", "sort_order", "is_active"),
    order=20,
)
register(
    Dictionary,
    group="system",
    icon="book",
    natural_key="code",
    lookup=True,
    search_fields=("name", "code"),
    list_fields=("code", "name", "builtin"),
    order=30,
)
register(
    DictionaryItem,
    group="system",
    icon="list-ul",
    search_fields=("value", "label"),
    list_fields=("dictionary", "value", "label", "sort_order", "is_active"),
    filter_fields=("dictionary", "is_active"),
    order=31,
)
register(
    SystemParameter,
    group="system",
    icon="sliders",
    natural_key="key",
    search_fields=("key", "name"),
    list_fields=("key", "value", "name"),
    order=40,
)
registry.add_nav_link(
    "system", _("Audit log"), "audit:event_list", icon="journal-check", perm="audit.view_auditevent", order=80
)
registry.add_nav_link(
    "system",
    _("Login log"),
    "audit:login_log",
    icon="box-arrow-in-right",
    perm="audit.view_auditevent",
    order=81,
)
registry.add_nav_link(
    "system",
    _("Operation log"),
    "audit:operation_log",
    icon="pencil-square",
    perm="audit.view_auditevent",
    order=82,
)
