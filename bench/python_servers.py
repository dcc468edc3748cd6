#!/usr/bin/env python3
"""Python's own socketserver on the benchmark workload.

Usage: python_servers.py threading|forking PORT [PACKET_SIZE]

The handler writes PACKET_SIZE bytes (16 KiB by default) and returns; the
server then shuts the connection down and closes it, as in the 2008 post's
TestServer.py. PORT 0 picks a free port. Prints "Serving on 127.0.0.1 port
N" (flushed) and serves until SIGINT or SIGTERM.
"""
import signal
import socketserver
import sys


def make_handler(packet):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(packet)
    return Handler


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("threading", "forking"):
        sys.stderr.write("usage: python_servers.py threading|forking PORT [PACKET_SIZE]\n")
        return 2
    kind, port = sys.argv[1], int(sys.argv[2])
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 16384
    base = socketserver.ThreadingTCPServer if kind == "threading" else socketserver.ForkingTCPServer

    class Server(base):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = socketserver.socket.SOMAXCONN

    # SIGTERM ends the process the way Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with Server(("127.0.0.1", port), make_handler(b"x" * size)) as server:
        print("Serving on 127.0.0.1 port %d (Python %s)" % (server.server_address[1], base.__name__),
              flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
