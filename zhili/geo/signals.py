"""Raise a layer's version when one of its rows is saved or deleted (tile caches key on it)."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from zhili.core.registry import registry


def bump(label: str) -> None:
    from zhili.geo.models import LayerVersion

    if LayerVersion.objects.filter(layer=label).update(version=F("version") + 1) == 0:
        try:
            with transaction.atomic():
                LayerVersion.objects.create(layer=label, version=1)
        except IntegrityError:
            LayerVersion.objects.filter(layer=label).update(version=F("version") + 1)


def _is_layer(sender) -> bool:
    return sender in registry and registry.get(sender).geometry_field is not None


@receiver(post_save, dispatch_uid="geo_layer_saved")
def layer_saved(sender, instance, raw=False, **kwargs):
    if not raw and _is_layer(sender):
        bump(sender._meta.label_lower)


@receiver(post_delete, dispatch_uid="geo_layer_deleted")
def layer_deleted(sender, instance, **kwargs):
    if _is_layer(sender):
        bump(sender._meta.label_lower)


@receiver(post_save, dispatch_uid="geo_style_saved")
def style_saved(sender, instance, **kwargs):
    """A new style changes every tile of its layer too."""
    if sender._meta.label_lower == "geo.layerstyle":
        bump(instance.layer)
