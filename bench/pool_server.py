#!/usr/bin/env python3
"""The 2008 python-list post's ThreadPoolingMixIn, ported to Python 3.

Usage: pool_server.py PORT [PACKET_SIZE]

The mix-in keeps the post's logic and names: a Queue of requests,
min_workers / max_workers / min_spare_workers, a worker added by
process_request when more than 3 requests wait and fewer than max_workers
exist, and a worker that retires after a request when more than
min_spare_workers are idle. The races the C library fixes are kept on
purpose (a worker is counted when it starts running, not when it is
spawned, and nothing stops the pool from shrinking below min_workers), so
this is the design the post measured. Only the Python 2 spellings changed
(queue, daemon, with-statements for the lock).

The server is the post's TestServer.py: TCPServer plus the mix-in with
init_thread_pool(2, 200, 20), and a handler that writes 16 KiB and
returns. Prints "Serving on 127.0.0.1 port N" (flushed) and serves until
SIGINT or SIGTERM.
"""
import queue
import signal
import socketserver
import sys
import threading


class ThreadPoolingMixIn(socketserver.ThreadingMixIn):
    """Handle requests in a thread pool that grows and shrinks with load."""

    def init_thread_pool(self, min_workers=5, max_workers=100, min_spare_workers=5):
        self.q = queue.Queue()
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.min_spare_workers = min_spare_workers
        self.num_workers = 0
        self.num_busy_workers = 0
        self.workers_mutex = threading.Lock()
        self.start_workers(self.min_workers)

    def start_workers(self, n):
        for _ in range(n):
            t = threading.Thread(target=self.worker)
            t.daemon = True
            t.start()

    def worker(self):
        # Counted here, when the thread runs: the post's race, kept.
        with self.workers_mutex:
            self.num_workers += 1
        while True:
            request, client_address = self.q.get()
            with self.workers_mutex:
                self.num_busy_workers += 1
            self.process_request_thread(request, client_address)
            self.q.task_done()
            with self.workers_mutex:
                self.num_busy_workers -= 1
                if self.num_workers - self.num_busy_workers > self.min_spare_workers:
                    self.num_workers -= 1
                    return

    def process_request(self, request, client_address):
        self.q.put((request, client_address))
        with self.workers_mutex:
            if self.q.qsize() > 3 and self.num_workers < self.max_workers:
                self.start_workers(1)

    def join(self):
        self.q.join()


class TestServer(ThreadPoolingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    request_queue_size = socketserver.socket.SOMAXCONN


def make_handler(packet):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(packet)
    return Handler


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: pool_server.py PORT [PACKET_SIZE]\n")
        return 2
    port = int(sys.argv[1])
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 16384
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with TestServer(("127.0.0.1", port), make_handler(b"x" * size)) as server:
        server.init_thread_pool(2, 200, 20)
        print("Serving on 127.0.0.1 port %d (Python, the post's ThreadPoolingMixIn (2, 200, 20))"
              % server.server_address[1], flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
