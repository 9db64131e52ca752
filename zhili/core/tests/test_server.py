"""The production server's worker processes share client connections evenly (``ConnectionBalance``)."""

import contextlib
import socket

from waitress import create_server, wasyncore

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
