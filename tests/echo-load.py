#!/usr/bin/env python3
"""echo-load.py: continuous line-echo load for tests/test-haproxy.sh.

    python3 echo-load.py --port=PORT --clients=N --stop-file=PATH [--duration=S]

N threads each loop "connect to 127.0.0.1:PORT, send one line, read its
echo, close" and count the exchanges that got their line back and those
that did not, with the reason (reset, EOF before the echo, timeout, a wrong
echo, refused). Every exchange gets a sequence number when it starts, so
the caller can tell the failures of exchanges that began after a moment it
marked from those in flight at that moment.

Output on stdout, one line each:
  ready                                    the SIGUSR1 handler is in place
  snap ok=N failed=N started=N             on each SIGUSR1: the counts so far;
                                           every exchange started later has
                                           a sequence number >= started
  failure seq=N at_ms=N ms=N reason=TEXT   at the end, one per failure
  total ok=N failed=N max_ms=N             at the end
It stops by itself once the stop file exists or after --duration seconds
(a bound; the caller normally uses the stop file), the exchanges in
flight then finishing (each socket operation has a 10 s timeout).

Why Python and not a C program: the load is not what is tested -- the
servers and HAProxy are -- and python3 is already a build dependency
(quickstart.sh). A C client would be one more check program compiled into
every sanitizer build for nothing; four Python threads make a few thousand
exchanges per second through HAProxy here, enough to always have
connections in flight.
"""
import argparse
import itertools
import os
import signal
import socket
import sys
import threading
import time


class Load:
    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.lock = threading.Lock()
        self.seq = itertools.count()
        self.started = 0
        self.ok = 0
        self.failed = 0
        self.max_ms = 0
        self.failures = []
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def exchange(self, client, seq):
        """One connection, one line; None when the echo came back, else why not."""
        line = b"client %d exchange %d\n" % (client, seq)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as s:
                s.sendall(line)
                got = b""
                while not got.endswith(b"\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        return "EOF before the echo (%d of %d bytes)" % (len(got), len(line))
                    got += chunk
                return None if got == line else "a wrong echo: %r" % got
        except socket.timeout:
            return "timeout (%g s)" % self.timeout
        except ConnectionRefusedError:
            return "connection refused"
        except ConnectionResetError:
            return "connection reset"
        except OSError as e:
            return "%s" % e

    def run(self, client):
        while not self.stop.is_set():
            with self.lock:
                seq = next(self.seq)
                self.started = seq + 1
            start = time.monotonic()
            why = self.exchange(client, seq)
            end = time.monotonic()
            ms = int((end - start) * 1000)
            with self.lock:
                self.max_ms = max(self.max_ms, ms)
                if why is None:
                    self.ok += 1
                else:
                    self.failed += 1
                    self.failures.append((seq, int((start - self.t0) * 1000), ms, why))

    def snap(self, signo, frame):
        with self.lock:
            print("snap ok=%d failed=%d started=%d" % (self.ok, self.failed, self.started),
                  flush=True)


def main():
    p = argparse.ArgumentParser(description="continuous line-echo load on 127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--stop-file", required=True)
    p.add_argument("--duration", type=float, default=120.0)
    p.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()

    load = Load(a.port, a.timeout)
    signal.signal(signal.SIGUSR1, load.snap)
    print("ready", flush=True)
    threads = [threading.Thread(target=load.run, args=(i,), daemon=True) for i in range(a.clients)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + a.duration
    while not os.path.exists(a.stop_file) and time.monotonic() < deadline:
        time.sleep(0.02)
    load.stop.set()
    for t in threads:
        t.join()
    for seq, at_ms, ms, why in load.failures:
        print("failure seq=%d at_ms=%d ms=%d reason=%s" % (seq, at_ms, ms, why))
    print("total ok=%d failed=%d max_ms=%d" % (load.ok, load.failed, load.max_ms), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
