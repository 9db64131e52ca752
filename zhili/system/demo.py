"""Demo data of the system app: the demo town's staff get built-in roles (labelled demo data).

Grid workers (``grid…``) get the grid worker role (self scope: their grid and below), village
and community heads (``cun…``) the village staff role (their committee and below), the town
offices' staff the office staff role, and the head of the party-government office the town
leader role as well.
"""

from django.contrib.auth import get_user_model

from zhili.demo import catalog
from zhili.system.models import Role

OFFICE_PREFIXES = tuple(prefix for _suffix, _name, _kind, prefix in catalog.OFFICES)


def role_for(username: str) -> str | None:
    if username.startswith("grid"):
        return "grid_worker"
    if username.startswith("cun"):
        return "village_staff"
    if username.startswith(OFFICE_PREFIXES):
        return "office_staff"
    return None


def build_demo_roles(town, write) -> None:
    roles = {r.code: r for r in Role.objects.filter(builtin=True)}
    users = get_user_model().objects.filter(email__endswith="@" + catalog.DEMO_EMAIL_DOMAIN)
    members: dict[str, list] = {}
    for user in users.only("pk", "username"):
        code = role_for(user.username)
        if code:
            members.setdefault(code, []).append(user.pk)
        if user.username == "dzb01":
            members.setdefault("town_leader", []).append(user.pk)
    for code, pks in members.items():
        if code in roles:
            roles[code].users.add(*pks)
    write(f"roles: {sum(len(v) for v in members.values())} demo role assignments (demo data)")


def delete_demo_roles(write) -> None:
    users = get_user_model().objects.filter(email__endswith="@" + catalog.DEMO_EMAIL_DOMAIN)
    through = Role.users.through
    through.objects.filter(user__in=users).delete()
