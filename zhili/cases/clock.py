"""The cases' clock: ``timezone.now()`` unless a test (or a replay) sets it.

The SLA sweep and every transition read the time here, so tests move time forward with
``clock.frozen(moment)`` instead of sleeping.
"""

import contextlib

from django.utils import timezone

_now = None


def now():
    return _now if _now is not None else timezone.now()


def localtime(value=None):
    return timezone.localtime(value or now())


def set_now(moment) -> None:
    """Fix the clock at ``moment`` (an aware datetime) or release it with ``None``."""
    global _now
    _now = moment


@contextlib.contextmanager
def frozen(moment):
    previous = _now
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)
