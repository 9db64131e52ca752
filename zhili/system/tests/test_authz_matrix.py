"""Authorization matrix generated from the URL conf and the API router (R-10.3-rbac, R-4.4).

Every named GET route × (anonymous, one user per built-in role, a grid worker of another grid)
is requested against the small demo town. Expected outcome per cell:

* anonymous: never 200 — a redirect to sign-in (pages) or 401/403 (API);
* routes of a registered model: allowed exactly when the user's roles grant the route's action
  on the model (list/detail/history → view, create → add, edit → change, delete → delete,
  import → import, export → export) and, for one object, when the object is inside the user's
  data scope (a grid worker of another grid gets 404 for the first grid's residents);
* the audit browser: the audit administrator only; the change log: holders of its permission;
* any other route: no 500, and anonymous denied.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from zhili.core.permissions import has_action, restrict
from zhili.core.registry import registry
from zhili.demo.builder import build_demo
from zhili.people.models import Resident
from zhili.places.models import Grid
from zhili.system.models import Role

pytestmark = [pytest.mark.req("R-10.3-rbac"), pytest.mark.req("R-4.4")]

PAGE_ACTIONS = {
    "list": "view",
    "detail": "view",
    "history": "view",
    "add": "add",
    "create": "add",
    "edit": "change",
    "delete": "delete",
    "import": "import",
    "import_template": "import",
    "export": "export",
}
API_ACTIONS = {"list": "view", "detail": "view", "import-file": "import", "export": "export"}
SKIP_NAMESPACES = {"accounts"}  # sign-in, 2FA, profile: the accounts app's own tests
DENIED = {302, 401, 403, 404, 405}


def walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns and namespace and p.namespace:
                ns = f"{namespace}:{p.namespace}"
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + str(p.pattern), (f"{namespace}:{p.name}" if namespace else p.name), p


def route_table():
    """(url name, converters, route text) of every named route without a format suffix."""
    rows = []
    for route, name, pattern in walk(get_resolver().url_patterns):
        if "format" in route or name.split(":")[0] in SKIP_NAMESPACES:
            continue
        converters = getattr(pattern.pattern, "converters", {})
        regex_groups = re.findall(r"\(\?P<(\w+)>", route)
        if getattr(pattern.callback, "login_required", True) is False:
            _open_views.add(name)
        rows.append((name, list(converters) or regex_groups, route))
    return rows


def entry_and_action(name):
    """The registry entry and action a route name stands for, or (None, None)."""
    if ":" in name:
        app, rest = name.split(":", 1)
        for entry in registry:
            if entry.app_label == app and rest.startswith(entry.model_name + "_"):
                view = rest[len(entry.model_name) + 1 :]
                return entry, PAGE_ACTIONS.get(view)
        return None, None
    for entry in registry:
        base = f"{entry.app_label}-{entry.model_name}-"
        if name.startswith(base):
            return entry, API_ACTIONS.get(name[len(base) :])
    return None, None


@pytest.fixture(scope="module")
def town(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        build_demo(scale=1, density=0.05)
        needs_2fa = list(Role.objects.filter(require_2fa=True).values_list("pk", flat=True))
        Role.objects.update(require_2fa=False)  # 2FA enrolment is enforced and tested by accounts
        users = {}
        model = get_user_model()
        for role in Role.objects.filter(builtin=True):
            user = model.objects.create_user(f"matrix_{role.code}", password="x")
            role.users.add(user)
            users[role.code] = user
        grid_a, grid_b = Grid.objects.filter(level=3, residents__isnull=False).distinct().order_by("pk")[:2]
        users["grid_worker"].member_grids.add(grid_a)
        other = model.objects.create_user("matrix_other_grid", password="x")
        Role.objects.get(code="grid_worker").users.add(other)
        other.member_grids.add(grid_b)
        users["other_grid"] = other
        target = Resident.objects.filter(grid=grid_a).first()
        yield {"users": users, "grid_a": grid_a, "target": target}
        from zhili.demo.cleanup import delete_demo

        delete_demo(lambda _m: None)
        model.objects.filter(username__startswith="matrix_").delete()
        Role.objects.filter(pk__in=needs_2fa).update(require_2fa=True)


def sample_object(entry, target):
    if entry.model is Resident:
        return target
    return entry.model._default_manager.order_by("pk").first()


def build_url(name, params, entry, obj):
    kwargs = {}
    for param in params:
        if param == "pk":
            if obj is None:
                return None
            kwargs["pk"] = obj.pk
        elif param == "label":
            kwargs["label"] = "places.building"
        elif param == "field":
            kwargs["field"] = "phone"
        else:
            kwargs[param] = 1
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:
        return None


def expected(user, name, entry, action, obj):
    """True (allowed), False (denied) or None (only: no 500) for one cell."""
    if user is None:
        return False
    if entry is not None and action is not None:
        if not has_action(user, entry.model, action):
            return False
        if obj is not None and "pk" in name_params(name):
            return restrict(entry.model._default_manager.filter(pk=obj.pk), user, action).exists()
        return True
    if name.startswith("audit:"):
        return user.username == "matrix_audit_admin"
    if name == "change_log":
        return user.has_perm("core.view_changerecord")
    return None


_params = {}


def name_params(name):
    return _params.get(name, [])


@pytest.mark.django_db
def test_authorization_matrix(client, town):
    table = route_table()
    assert len(table) > 50, "the URL conf was walked"
    problems, cells = [], 0
    cast = {"anonymous": None, **town["users"]}
    for name, params, _route in table:
        _params[name] = params
        entry, action = entry_and_action(name)
        if entry is not None and action is None:
            action = "view"
        obj = sample_object(entry, town["target"]) if entry is not None else None
        url = build_url(name, params, entry, obj)
        if url is None:
            continue
        for label, user in cast.items():
            client.logout()
            if user is not None:
                client.force_login(user)
            response = client.get(url)
            status = response.status_code
            cells += 1
            if status >= 500:
                problems.append(f"{label} GET {url} ({name}): {status}")
                continue
            want = expected(user, name, entry, action, obj)
            # POST-only routes (imports, workflow actions) answer GET with 405 once the user may use them.
            if want is True and status not in (200, 405):
                problems.append(f"{label} GET {url} ({name}): expected 200, got {status}")
            elif want is False and status not in DENIED and not (user is None and _public(name)):
                problems.append(f"{label} GET {url} ({name}): expected denial, got {status}")
            if user is None and status == 200 and not _public(name):
                problems.append(f"anonymous GET {url} ({name}): 200")
    assert cells > 500
    assert problems == [], "\n".join(problems[:40])


_open_views: set[str] = set()


def _public(name):
    """Routes open to anonymous visitors by design: views marked ``login_not_required``
    (resident reporting, Open311, OGC services with public layers, device ingestion), which
    authenticate and restrict by themselves and have their own tests for it."""
    return name in {"set_language"} or name in _open_views or name.startswith(("accounts:",))


@pytest.mark.django_db
def test_other_grid_worker_is_denied_the_first_grids_records(client, town):
    other = town["users"]["other_grid"]
    target = town["target"]
    client.force_login(other)
    assert client.get(f"/people/resident/{target.pk}/").status_code == 404
    assert client.get(f"/api/people/residents/{target.pk}/").status_code == 404
    client.force_login(town["users"]["grid_worker"])
    assert client.get(f"/people/resident/{target.pk}/").status_code == 200
