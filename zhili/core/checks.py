"""System checks: configuration mistakes of registered models are caught at start-up."""

from django.core import checks
from django.urls import NoReverseMatch, reverse


@checks.register()
def check_registry(app_configs=None, **kwargs):
    from zhili.core.models import BaseModel
    from zhili.core.registry import registry

    errors = []
    for entry in registry:
        label = entry.meta.label
        if not issubclass(entry.model, BaseModel):
            errors.append(
                checks.Error(
                    f"{label} is registered but does not inherit core.models.BaseModel", id="zhili.E001"
                )
            )
        for name in (*entry.search_fields, *entry.get_list_fields(), *entry.get_filter_fields()):
            try:
                entry.meta.get_field(name.split("__")[0])
            except Exception:
                errors.append(
                    checks.Error(f"{label}: unknown field {name!r} in its registration", id="zhili.E002")
                )
        if entry.natural_key:
            field = entry.meta.get_field(entry.natural_key)
            if not field.unique:
                errors.append(
                    checks.Warning(
                        f"{label}: natural key {entry.natural_key!r} is not unique", id="zhili.W001"
                    )
                )
        try:
            reverse(entry.url_name("list"))
        except NoReverseMatch:
            errors.append(
                checks.Error(
                    f"{label} has no pages: add model_urls({entry.model.__name__}) to "
                    f"{entry.app_label}/urls.py",
                    id="zhili.E003",
                )
            )
    return errors
