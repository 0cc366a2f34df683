"""The floor under any fan-out here: one small send() to each of N loopback TCP sockets.

Every listener needs its own write system call, whatever the server does above
it. This measures that alone (no Python server, no WebSocket framing): a
process pinned to CPU 0 sends 100 bytes to each of N accepted sockets, whose
peers (a child pinned to CPU 1) read them. Compare its CPU per send with the
server's CPU per listener in fanout.py.

    .venv/bin/python bench/send_floor.py --sockets 2000
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import socket
import time

ROUNDS = 20


def read_everything(port: int, sockets: int) -> None:
    os.sched_setaffinity(0, {1})
    peers = [socket.create_connection(("127.0.0.1", port)) for _ in range(sockets)]
    poller = select.epoll()
    by_fd = {peer.fileno(): peer for peer in peers}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    expected, received = sockets * ROUNDS * 100, 0
    while received < expected:
        for fd, _event in poller.poll(1):
            received += len(by_fd[fd].recv(65536))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2000)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    listener = socket.create_server(("127.0.0.1", 0), backlog=args.sockets)
    port = listener.getsockname()[1]
    child = os.fork()
    if child == 0:
        read_everything(port, args.sockets)
        os._exit(0)
    os.sched_setaffinity(0, {0})
    accepted = [listener.accept()[0] for _ in range(args.sockets)]
    message = b"x" * 100
    cpu = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for sock in accepted:
            sock.send(message)
        cpu.append(time.process_time() - started)
        time.sleep(0.05)
    os.waitpid(child, 0)
    cpu.sort()
    print(
        f"{args.sockets} sends per round, {ROUNDS} rounds: CPU per send "
        f"median {cpu[len(cpu) // 2] / args.sockets * 1e6:.1f} us, "
        f"best {cpu[0] / args.sockets * 1e6:.1f} us"
    )


if __name__ == "__main__":
    main()
