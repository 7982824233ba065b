"""Hostile clients for the security tests and the hostile-load benchmark: idle sockets, and
slowloris connections and trickling unauthenticated uploads driven by one selector thread."""

import selectors
import socket
import struct
import threading
import time
import uuid

RST_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER 0: close() resets, leaving no TIME_WAIT pile


def open_idle(port, n):
    """`n` TCP connections to the server that never send a byte, opened back to back."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST_ON_CLOSE)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


class Attackers:
    """Slowloris connections and trickling unauthenticated uploads, all driven by one thread
    with non-blocking sockets and a selector. Sockets the server closes are reopened."""

    def __init__(self, port, slow=200, uploads=16, slow_every=0.5, upload_every=0.1):
        self.port = port
        self.slow_every, self.upload_every = slow_every, upload_every
        self.kinds = ["slow"] * slow + ["upload"] * uploads
        self.socks = [None] * len(self.kinds)
        self.due = [0.0] * len(self.kinds)
        self.sel = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.pending_head = {}
        self.stats = {"opened": 0, "bytes": 0, "closed_by_server": {"slow": 0, "upload": 0},
                      "answered": {"slow": 0, "upload": 0}}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def head(self, kind):
        if kind == "slow":
            return f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nX-Slow: ".encode()
        return (f"PUT /victim-bucket/{uuid.uuid4().hex} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Content-Length: {64 * 1024 * 1024}\r\n\r\n").encode()

    def open(self, i):
        s = socket.socket()
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST_ON_CLOSE)
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        self.socks[i] = s
        self.sel.register(s, selectors.EVENT_READ, i)
        self.stats["opened"] += 1
        self.pending_head[i] = self.head(self.kinds[i])

    def drop(self, i):
        s = self.socks[i]
        if s is not None:
            self.sel.unregister(s)
            s.close()
            self.socks[i] = None

    def tick(self, i, now):
        s = self.socks[i]
        if s is None:
            self.open(i)
            s = self.socks[i]
        data = self.pending_head.pop(i, None)
        if data is None:
            data = b"a" if self.kinds[i] == "slow" else b"x" * 1024
        try:
            self.stats["bytes"] += s.send(data)
        except (BlockingIOError, InterruptedError):
            self.pending_head[i] = data
        except OSError:
            self.drop(i)
        self.due[i] = now + (self.slow_every if self.kinds[i] == "slow" else self.upload_every)

    def run(self):
        start, cpu = time.monotonic(), time.thread_time()
        for i in range(len(self.kinds)):
            self.open(i)
            # Spread the ticks so the thread wakes briefly and often rather than in bursts.
            period = self.slow_every if self.kinds[i] == "slow" else self.upload_every
            self.due[i] = start + period * i / len(self.kinds)
        while not self.stop.is_set():
            now = time.monotonic()
            nxt = min(self.due)
            for key, _ in self.sel.select(timeout=max(0.0, min(nxt - now, 0.05))):
                i = key.data
                try:
                    chunk = self.socks[i].recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if chunk.startswith(b"HTTP/1."):
                    self.stats["answered"][self.kinds[i]] += 1
                if not chunk:
                    self.stats["closed_by_server"][self.kinds[i]] += 1
                    self.drop(i)
            now = time.monotonic()
            for i, d in enumerate(self.due):
                if d <= now:
                    self.tick(i, now)
        self.stats["thread_cpu_s"] = round(time.thread_time() - cpu, 3)
        for i in range(len(self.socks)):
            self.drop(i)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
