"""The audit seam: every security-relevant event of the platform goes through ``emit``.

The foundation writes events as JSON lines to the ``zhili.audit`` logger. The security layer
replaces the sink with the hash-chained, append-only store (R-10.3-audit) without touching
any caller.
"""

import json
import logging

from django.utils import timezone

from zhili.core.context import current_request_id, current_request_meta

logger = logging.getLogger("zhili.audit")

_sinks = []


def add_sink(sink) -> None:
    """Register a callable ``sink(event: dict)`` that stores events (e.g. the chained audit log)."""
    if sink not in _sinks:
        _sinks.append(sink)


def emit(event_type: str, *, user=None, obj=None, success: bool = True, details: dict | None = None) -> dict:
    """Record one audit event and return it.

    ``event_type`` is dotted, e.g. ``auth.login``, ``data.create``, ``data.export``.
    """
    meta = current_request_meta()
    request_id = current_request_id()
    event = {
        "time": timezone.now().isoformat(),
        "type": event_type,
        "user": getattr(user, "username", None) if user is not None and user.is_authenticated else None,
        "ip": meta.get("ip"),
        "user_agent": meta.get("user_agent"),
        "request_id": str(request_id) if request_id else None,
        "object_type": obj._meta.label_lower if obj is not None and hasattr(obj, "_meta") else None,
        "object_id": str(obj.pk) if obj is not None and getattr(obj, "pk", None) is not None else None,
        "success": success,
        "details": details or {},
    }
    for sink in _sinks:
        sink(event)
    logger.info(json.dumps(event, ensure_ascii=False, default=str))
    return event
