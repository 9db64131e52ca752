"""Listeners told about every committed batch of readings.

Other apps (dust analysis, pipelines, water) react to new data without the ingest knowing them::

    from zhili.iot.hooks import register_reading_listener

    def on_batch(batch):  # list of zhili.iot.store.Row (device_id, metric_code, ts, value)
        ...

    register_reading_listener(on_batch)

A listener runs after the batch's transaction committed, in the ingest process (or the request
or simulator that wrote it). It must be quick; a failing listener is logged and does not stop
the others or the ingest. The rule engine itself is such a listener.
"""

import logging

logger = logging.getLogger("zhili.iot")

_listeners: list = []


def register_reading_listener(fn) -> None:
    """Call ``fn(batch)`` after each committed batch; ``batch`` holds only newly stored rows."""
    if fn not in _listeners:
        _listeners.append(fn)


def unregister_reading_listener(fn) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def dispatch(batch) -> None:
    """Run every listener on ``batch`` (called by ``zhili.iot.store`` after commit)."""
    if not batch:
        return
    for fn in list(_listeners):
        try:
            fn(batch)
        except Exception:
            logger.exception("reading listener %r failed", fn)
