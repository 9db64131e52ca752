"""Serve Zhili with waitress (a production WSGI server) plus the in-process job scheduler.

The thread pool is fixed, so the number of database connections is bounded by ``threads``
(and on PostgreSQL by the connection pool's ``ZHILI_DB_POOL_MAX``): the server never opens
more connections than the database allows.
"""

import signal
import sys


def serve(host: str, port: int, threads: int = 8) -> int:
    from django.conf import settings
    from waitress import create_server

    from zhili.core.jobs import Scheduler
    from zhili.wsgi import application

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and threads > settings.DB_POOL_MAX:
        print(
            f"warning: {threads} threads but a pool of {settings.DB_POOL_MAX} connections; "
            "requests will wait for a connection",
            file=sys.stderr,
        )
    server = create_server(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="zhili",
        connection_limit=max(100, threads * 16),
        channel_timeout=60,
    )
    scheduler = Scheduler()
    scheduler.start()
    shown_host = f"[{host}]" if ":" in host else host
    print(f"Zhili is running at http://{shown_host}:{port}/  (Ctrl-C to stop)", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping Zhili…", flush=True)
        scheduler.stop()
        server.close()
    return 0
