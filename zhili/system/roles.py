"""Built-in roles: the three separated administrators (三员分立) and typical town roles.

The rows are created by migration ``0002_builtin_roles``; their default permissions are granted
after every ``migrate`` (permissions of new apps appear then), by rules over app labels and
actions, so apps added later get sensible defaults without editing this file.
"""

from django.contrib.auth.models import Permission
from django.db.models import Q

from zhili.core.models.base import DEFAULT_PERMISSIONS

#: Apps whose models are platform machinery, not town business data.
PLATFORM_APPS = {"auth", "contenttypes", "sessions", "admin", "core", "accounts", "system", "audit"}
READ = ("view",)
WRITE = ("view", "add", "change")
FULL = ("view", "add", "change", "delete", "import", "export")

BUILTIN_ROLES = [
    {
        "code": "system_admin",
        "name": "系统管理员",
        "duty": "system_admin",
        "data_scope": "all",
        "require_2fa": True,
        "description": "三员之一：管理用户、部门、岗位、字典与系统参数；不能读审计日志，不能查看未脱敏的个人信息。",
    },
    {
        "code": "security_admin",
        "name": "安全管理员",
        "duty": "security_admin",
        "data_scope": "all",
        "require_2fa": True,
        "description": "三员之一：管理角色授权、数据范围与安全策略（API 令牌、系统参数）。",
    },
    {
        "code": "audit_admin",
        "name": "审计管理员",
        "duty": "audit_admin",
        "data_scope": "all",
        "require_2fa": True,
        "description": "三员之一：只读查看与导出审计日志（登录日志、操作日志），任何人不能修改或删除。",
    },
    {
        "code": "town_leader",
        "name": "镇领导",
        "duty": "none",
        "data_scope": "all",
        "require_2fa": False,
        "description": "查看全镇业务数据与统计，可导出。",
    },
    {
        "code": "office_staff",
        "name": "镇办工作人员",
        "duty": "none",
        "data_scope": "all",
        "require_2fa": False,
        "description": "镇各办公室（综治中心等）：维护全镇业务数据，可导入导出与查看明文。",
    },
    {
        "code": "village_staff",
        "name": "村（社区）工作人员",
        "duty": "none",
        "data_scope": "unit_and_below",
        "require_2fa": False,
        "description": "村委会/居委会：维护本村（社区）数据。",
    },
    {
        "code": "grid_worker",
        "name": "网格员",
        "duty": "none",
        "data_scope": "self",
        "require_2fa": False,
        "description": "只看本人负责网格（及下级网格）的人、户、房，和自己录入的记录。",
    },
    {
        "code": "department_staff",
        "name": "部门工作人员",
        "duty": "none",
        "data_scope": "unit",
        "require_2fa": False,
        "description": "接收共享任务的部门：只看本部门的数据。",
    },
]


def _perms(app_labels=None, exclude_apps=(), actions=DEFAULT_PERMISSIONS, models=None) -> Q:
    condition = Q(codename__regex=r"^({})_".format("|".join(actions)))
    if app_labels is not None:
        condition &= Q(content_type__app_label__in=app_labels)
    if exclude_apps:
        condition &= ~Q(content_type__app_label__in=exclude_apps)
    if models is not None:
        condition &= Q(content_type__model__in=models)
    return condition


def default_permissions(code: str) -> Q | None:
    """The permission rows a built-in role holds by default."""
    business = {"exclude_apps": PLATFORM_APPS}
    if code == "system_admin":
        return (
            _perms(["accounts"], models=["user"], actions=FULL)
            | _perms(["orgs"], actions=FULL)
            | _perms(
                ["system"], models=["post", "dictionary", "dictionaryitem", "systemparameter"], actions=FULL
            )
            | _perms(["places"], actions=READ)
        )
    if code == "security_admin":
        return (
            _perms(["system"], models=["role"], actions=("view", "change", "export"))
            | _perms(["system"], models=["systemparameter"], actions=("view", "change"))
            | _perms(["accounts"], actions=("view",))
            | _perms(["accounts"], models=["apitoken"], actions=("view", "delete"))
            | _perms(["auth"], models=["permission"], actions=READ)
        )
    if code == "audit_admin":
        return _perms(["audit"], models=["auditevent"], actions=("view", "export"))
    if code == "town_leader":
        return _perms(**business, actions=("view", "export")) | _perms(["orgs"], actions=READ)
    if code == "office_staff":
        return _perms(**business, actions=(*FULL, "unmask")) | _perms(["orgs"], actions=READ)
    if code == "village_staff":
        return _perms(**business, actions=(*WRITE, "import", "export", "unmask")) | _perms(
            ["orgs"], actions=READ
        )
    if code == "grid_worker":
        return (
            _perms(["people"], actions=(*WRITE, "export", "unmask"))
            | _perms(["places"], models=["building", "house"], actions=WRITE)
            | _perms(["places", "orgs", "dashboard"], actions=READ)
            | _perms(**business, actions=READ)
        )
    if code == "department_staff":
        return _perms(**business, actions=READ) | _perms(["orgs"], actions=READ)
    return None


def sync_builtin_roles() -> None:
    """Grant each built-in role its default permissions (missing ones only)."""
    from zhili.system.models import Role

    for role in Role.objects.filter(builtin=True):
        condition = default_permissions(role.code)
        if condition is None:
            continue
        wanted = set(Permission.objects.filter(condition).values_list("pk", flat=True))
        missing = wanted - set(role.permissions.values_list("pk", flat=True))
        if missing:
            role.permissions.add(*missing)
