"""The notices seam: anything that must tell people something (an SLA about to expire, an alarm,
a burst of failed sign-ins) calls ``notify``; the notices app stores and shows them.

Like the audit seam, callers never import the app that delivers: sinks register themselves in
their ``AppConfig.ready()`` with ``add_sink``. Without a sink, notices are only logged.
"""

import logging

logger = logging.getLogger("zhili.notices")

_sinks = []


def add_sink(sink) -> None:
    """Register ``sink(notice: dict) -> None`` (e.g. the notices app storing one row per recipient)."""
    if sink not in _sinks:
        _sinks.append(sink)


def notify(
    recipients,
    title: str,
    *,
    body: str = "",
    url: str = "",
    level: str = "info",
    category: str = "",
    obj=None,
) -> dict:
    """Tell ``recipients`` (users, or an iterable of them) about something and return the notice.

    ``level`` is ``info``, ``warning`` or ``danger``; ``category`` is dotted (``cases.sla``,
    ``iot.alarm``, ``security.login_failures``); ``url`` links to what the notice is about.
    """
    if recipients is None:
        users = []
    elif hasattr(recipients, "pk"):
        users = [recipients]
    else:
        users = list(recipients)
    notice = {
        "recipients": users,
        "title": str(title),
        "body": str(body),
        "url": url,
        "level": level,
        "category": category,
        "object_type": obj._meta.label_lower if obj is not None and hasattr(obj, "_meta") else None,
        "object_id": str(obj.pk) if obj is not None and getattr(obj, "pk", None) is not None else None,
    }
    for sink in _sinks:
        sink(notice)
    logger.info("notice %s to %d recipient(s): %s", category or level, len(users), notice["title"])
    return notice
