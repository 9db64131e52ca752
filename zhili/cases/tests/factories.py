"""Test helpers for cases (test databases only; the categories come from the data migration)."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from zhili.cases import services

_seq = itertools.count(1)

ALL_ACTIONS = (
    "view",
    "add",
    "change",
    "accept",
    "dispatch",
    "handle",
    "review",
    "merge",
    "supervise",
    "export",
)


def make_user(name=None, *, department=None, actions=ALL_ACTIONS):
    user = get_user_model().objects.create_user(
        name or f"case_user_{next(_seq)}", password="x", department=department
    )
    codenames = [f"{a}_case" for a in actions] + ["view_followupvisit"]
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
    )
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def point(lon=119.93, lat=30.23):
    return {"type": "Point", "coordinates": [lon, lat]}


def make_case(category="city.road", *, user=None, **kwargs):
    kwargs.setdefault("title", f"路面坑洼{next(_seq)}")
    kwargs.setdefault("location", point())
    return services.open_case(category=category, user=user, **kwargs)


def ensure_categories():
    """Recreate the migration's categories (transactional tests flush the tables)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("zhili.cases.migrations.0002_categories")
    migration.create(apps, None)
