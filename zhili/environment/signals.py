"""A new violation event (edge-AI camera or staff) warns the site's unit at once (R-5.4.2)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from zhili.environment.models import ViolationEvent


@receiver(post_save, sender=ViolationEvent, dispatch_uid="environment_violation_warning")
def warn_on_new_violation(sender, instance, created, raw=False, **kwargs):
    # Platform-detected events send their own warning (tracks.check_vehicle); demo rows stay quiet.
    if not created or raw or instance.source == "system" or instance.data_source == "demo":
        return
    from zhili.environment.tracks import _warn

    transaction.on_commit(lambda: _warn(instance))
