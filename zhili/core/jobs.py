"""Background jobs that run inside ``zhili up`` (the embedded default; workers at scale).

Apps register periodic jobs with ``register_job``; the scheduler runs each in its own request
context (so its changes share one request id) and logs failures without stopping.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections

from zhili.core.context import request_context
from zhili.core.dbstats import refresh_statistics_job

logger = logging.getLogger("zhili.jobs")


@dataclass
class Job:
    name: str
    interval: float
    func: object
    next_run: float = 0.0


_jobs: dict[str, Job] = {}


def register_job(name: str, interval_seconds: float, func) -> None:
    """Run ``func()`` every ``interval_seconds`` while the server runs."""
    _jobs[name] = Job(name, interval_seconds, func, time.monotonic() + min(interval_seconds, 60))


def registered_jobs() -> list[Job]:
    return list(_jobs.values())


def run_job(job: Job) -> None:
    with request_context(job=job.name):
        try:
            job.func()
        except Exception:
            logger.exception("job %s failed", job.name)
        finally:
            close_old_connections()


class Scheduler(threading.Thread):
    """A daemon thread that runs due jobs once a second until ``stop()``."""

    def __init__(self):
        super().__init__(name="zhili-jobs", daemon=True)
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(1.0):
            now = time.monotonic()
            for job in list(_jobs.values()):
                if now >= job.next_run:
                    job.next_run = now + job.interval
                    run_job(job)

    def stop(self):
        self._stop_event.set()


def clear_expired_sessions():
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()


register_job("clear_expired_sessions", 3600, clear_expired_sessions)
register_job("refresh_statistics", 3600, refresh_statistics_job)
