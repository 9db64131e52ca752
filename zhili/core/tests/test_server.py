"""The production server's worker processes share client connections evenly (``ConnectionBalance``)."""

import contextlib
import os
import socket
from unittest import mock

import pytest
from waitress import create_server, wasyncore

from zhili import server as zhili_server
from zhili.server import ConnectionBalance, listen


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@contextlib.contextmanager
def two_workers(balanced: bool):
    """Two waitress servers on one listening socket, as two forked workers would have them."""
    sock = listen("127.0.0.1", 0)
    balance = ConnectionBalance(2) if balanced else None
    servers = []
    for index in range(2):
        server = create_server(hello, map={}, sockets=[sock], threads=1)
        if balance is not None:
            balance.attach(server, index)
        servers.append(server)
    try:
        yield sock.getsockname()[1], servers, balance
    finally:
        for server in servers:
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)
        sock.close()


def accept_in_turns(servers, port: int, clients: int) -> list[int]:
    """Open keep-alive connections while the first worker always gets many chances before the second.

    This is the unfair wake-up that a shared socket sees under load: the worker that is idle
    (or simply scheduled first) reaches ``accept`` first, again and again.
    """
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
    try:
        for _ in range(clients):
            for server in servers:
                for _ in range(clients):
                    wasyncore.loop(timeout=0.01, map=server._map, count=1)
        return [len(server.active_channels) for server in servers]
    finally:
        for connection in connections:
            connection.close()


def test_workers_hold_an_even_share_of_keep_alive_connections():
    with two_workers(balanced=True) as (port, servers, balance):
        held = accept_in_turns(servers, port, 8)
        assert held == [4, 4]
        assert list(balance.counts) == [4, 4]


def test_without_the_balance_the_first_worker_to_wake_takes_every_connection():
    """The situation the balance exists for, shown with the same harness."""
    with two_workers(balanced=False) as (port, servers, _balance):
        assert accept_in_turns(servers, port, 8) == [8, 0]


def test_a_closed_connection_frees_its_workers_slot():
    with two_workers(balanced=True) as (port, servers, balance):
        first = socket.create_connection(("127.0.0.1", port))
        for _ in range(5):
            wasyncore.loop(timeout=0.01, map=servers[0]._map, count=1)
        assert list(balance.counts) == [1, 0]
        first.close()
        for _ in range(5):
            wasyncore.loop(timeout=0.01, map=servers[0]._map, count=1)
        assert list(balance.counts) == [0, 0]


def exit_code_of_forked_worker(run_worker) -> int:
    """Fork, run ``worker_main`` with ``run_worker`` in the child; return the child's exit code.

    The child exits with 99 if ``worker_main`` ever returned or raised, that is, if the worker
    could have carried on into the supervisor's code.
    """
    sock = listen("127.0.0.1", 0)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                with mock.patch.object(zhili_server, "run_worker", run_worker):
                    zhili_server.worker_main(sock, 1, None, 0)
            finally:
                os._exit(99)
        _pid, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
    finally:
        sock.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked only where os.fork exists")
def test_a_worker_stopped_during_start_up_exits_instead_of_running_the_supervisors_code():
    def stopped(*args):
        raise SystemExit(0)  # what the SIGTERM handler raises

    assert exit_code_of_forked_worker(stopped) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked only where os.fork exists")
def test_a_worker_that_fails_exits_with_an_error():
    def failing(*args):
        raise RuntimeError("the worker could not start")

    assert exit_code_of_forked_worker(failing) == 1
