"""Serve Zhili with waitress (a production WSGI server) plus the in-process job scheduler.

On POSIX systems ``workers`` processes share one listening socket (pre-fork), so the
server uses every core; each worker has a fixed pool of ``threads``. The parent process runs
the background jobs and supervises the workers. On Windows there is one worker.

Database connections are bounded: every thread holds at most one connection, and on
PostgreSQL each worker's connection pool is capped so that all workers together never open
more than ``ZHILI_DB_POOL_MAX`` connections (see docs/adr/0003).

Client connections are balanced across the workers (``ConnectionBalance``): with a plain shared
socket, whichever worker wakes first accepts, and under load one worker ended up holding 11 of
16 keep-alive connections (23 of 32) while the other idled, so the loaded worker's requests
queued behind its single core.
"""

import contextlib
import gc
import multiprocessing.sharedctypes
import os
import signal
import socket
import sys
import time
import traceback
from typing import NoReturn

#: Threads per worker process of the running server (set by ``serve``; None outside ``zhili up``).
THREADS_PER_WORKER: int | None = None


def long_request_slots() -> int | None:
    """How many of a worker's threads may be held by long requests (event streams) at once.

    A stream holds its thread for up to 25 seconds; if streams took every thread, the worker
    would answer nothing else. Half the threads (at least one) stay for ordinary requests.
    ``ZHILI_STREAM_SLOTS`` overrides; None means no limit (tests, ``runserver``).
    """
    configured = os.environ.get("ZHILI_STREAM_SLOTS")
    if configured:
        return max(0, int(configured))
    if THREADS_PER_WORKER is None:
        return None
    return max(1, THREADS_PER_WORKER // 2)


def default_workers() -> int:
    """Return the default number of worker processes: one per core (at most 4) where fork exists."""
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def cap_pool(workers: int, threads: int) -> int | None:
    """Give each worker its share of the PostgreSQL pool; return the per-worker size (None: no pool)."""
    from django.conf import settings

    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if not isinstance(pool, dict):
        return None
    # One connection stays for the supervising process's job scheduler (a single thread).
    share = max(1, min(threads, (settings.DB_POOL_MAX - 1) // workers))
    pool["max_size"] = share
    pool["min_size"] = min(pool.get("min_size", 1), share)
    return share


def release_connections() -> None:
    """Close every database connection (and pool) before forking: children open their own."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


class ConnectionBalance:
    """Keep the workers' open client connections even ("least connections" at accept time).

    Every worker publishes how many client connections it holds in a slot of a shared array
    (created before the fork; each worker writes only its own slot). A worker offers to accept
    a new connection only while it holds no more than any other worker; ties all offer, and the
    kernel gives the connection to one of them. Keep-alive clients (browsers, a reverse proxy's
    upstream pool, load generators) keep their connection for many requests, so an uneven first
    accept would stay uneven for the life of the connection.
    """

    def __init__(self, workers: int):
        self.counts = multiprocessing.sharedctypes.RawArray("i", workers)

    def attach(self, server, index: int) -> None:
        """Make a waitress server (one worker's) publish its count and accept only when least loaded."""
        counts = self.counts
        plain_readable = server.readable
        channels = server.active_channels

        def readable() -> bool:
            if not plain_readable():
                return False
            mine = counts[index] = len(channels)
            return mine <= min(counts)

        class BalancedChannel(server.channel_class):
            def add_channel(self, map=None):
                super().add_channel(map)
                counts[index] = len(channels)

            def del_channel(self, map=None):
                super().del_channel(map)
                counts[index] = len(channels)

        server.readable = readable
        server.channel_class = BalancedChannel


def run_worker(
    sock: socket.socket, threads: int, balance: ConnectionBalance | None = None, index: int = 0
) -> None:
    from waitress import create_server

    from zhili.wsgi import application

    server = create_server(
        application,
        sockets=[sock],
        threads=threads,
        ident="zhili",
        connection_limit=max(100, threads * 16),
        channel_timeout=60,
    )
    if balance is not None:
        balance.attach(server, index)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()


def worker_main(sock: socket.socket, threads: int, balance: ConnectionBalance | None, index: int) -> NoReturn:
    """The whole life of a forked worker: serve until SIGTERM or Ctrl-C, then exit.

    It never returns: an exception that escaped ``run_worker`` (a signal during start-up, say)
    would otherwise carry the child on into the supervisor's code after ``fork``, where it would
    fork workers of its own that nobody stops.
    """
    code = 0
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: sys.exit(0))
        run_worker(sock, threads, balance, index)
    except (KeyboardInterrupt, SystemExit):
        pass
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def serve(host: str, port: int, threads: int = 8, workers: int | None = None) -> int:
    from zhili.core.jobs import Scheduler

    global THREADS_PER_WORKER
    workers = workers or default_workers()
    if not hasattr(os, "fork"):
        workers = 1
    THREADS_PER_WORKER = threads
    share = cap_pool(workers, threads)
    if share is not None and share < threads:
        print(
            f"note: {workers} worker(s) × {threads} threads share {share} pooled database connections per "
            "worker (ZHILI_DB_POOL_MAX); requests wait briefly for a connection",
            file=sys.stderr,
        )
    release_connections()
    import zhili.wsgi  # noqa: F401  (load the application once, before the workers fork)

    # Everything loaded so far lives as long as the process: keep it out of the garbage
    # collector's full passes (shorter pauses under load) and share it copy-on-write.
    gc.collect()
    gc.freeze()
    sock = listen(host, port)
    children: list[int] = []
    balance = ConnectionBalance(workers) if workers > 1 else None
    scheduler = Scheduler()

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Both set explicitly: a process started in the background by a non-interactive shell (a CI
    # script's ``cmd &``, some service wrappers) inherits SIGINT as *ignored*, and Python then
    # leaves it ignored, so Ctrl-C (or ``kill -INT``) would not stop the server.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # From the first fork on, every way out (Ctrl-C, SIGTERM, an error) goes through the
    # ``finally`` below, which stops the workers: none may outlive the supervisor.
    try:
        for index in range(workers if workers > 1 else 0):
            pid = os.fork()
            if pid == 0:
                worker_main(sock, threads, balance, index)
            children.append(pid)
        scheduler.start()
        shown_host = f"[{host}]" if ":" in host else host
        print(
            f"Zhili is running at http://{shown_host}:{port}/  ({workers} worker(s) × {threads} threads; "
            "Ctrl-C to stop)",
            flush=True,
        )
        if children:
            while True:
                pid, _status = os.wait()
                if pid in children:
                    print(f"worker {pid} exited; stopping", file=sys.stderr, flush=True)
                    break
        else:
            run_worker(sock, threads)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping Zhili…", flush=True)
        scheduler.stop()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for pid in children:
            while time.monotonic() < deadline:
                try:
                    done, _status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done:
                    break
                time.sleep(0.05)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        sock.close()
    return 0
