"""The registry itself: every registered model is complete, checked, and covered by the generic tests."""

import contextlib
import importlib

import pytest
from django.apps import apps
from django.core import checks

from zhili.core.registry import kebab_plural, registry
from zhili.core.testing import RegisteredModelTests

pytestmark = pytest.mark.req("R-11.1")


def test_every_registered_model_has_a_generic_test_class():
    for config in apps.get_app_configs():
        if config.name.startswith("zhili."):
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"{config.name}.tests.test_registered")
    covered = set()
    stack = list(RegisteredModelTests.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.model is not None:
            covered.add(cls.model)
    missing = [entry.label for entry in registry if entry.model not in covered]
    assert missing == [], f"registered models without a RegisteredModelTests subclass: {missing}"


def test_system_checks_pass_for_the_registry():
    errors = [e for e in checks.run_checks() if e.id and e.id.startswith("zhili.")]
    assert errors == []


def test_rest_collection_names():
    assert kebab_plural("BusinessUnit") == "business-units"
    assert kebab_plural("FloatingRegistration") == "floating-registrations"
    assert kebab_plural("Address") == "addresses"
    assert kebab_plural("Facility") == "facilities"


def test_every_registered_model_inherits_the_base_fields():
    for entry in registry:
        names = {f.name for f in entry.meta.get_fields()}
        assert {
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "data_source",
            "owner_unit",
        } <= names, entry
