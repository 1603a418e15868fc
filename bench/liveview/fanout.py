#!/usr/bin/env python3
"""N Server-Sent Events clients on one live view, for bench/liveview/run.

    fanout.py BASE_URL N

Opens N streams (`GET /events?after=<the server's last id>`), prints `ready` once all heads
have arrived, then counts the `id:` lines each client receives. It stops when every client
holds the server's last id (read from /events.jsonl's Last-Event-ID) and nothing new came for
2 s, and prints one line:

    clients N events E first_to_last_s S delivered_per_s D complete C max_lag_events L

where D = N * E / S (events delivered to all clients per second over the span in which they
arrived), and C = clients that received every event exactly once (as many messages as ids,
ending at the server's last).
"""
import selectors
import socket
import sys
import time
import urllib.request


def last_id(base):
    with urllib.request.urlopen(base + "events.jsonl", timeout=60) as response:
        response.read()
        return int(response.headers["Last-Event-ID"])


class Client:
    def __init__(self, host, port, after):
        self.sock = socket.create_connection((host, port))
        self.sock.sendall(f"GET /events?after={after} HTTP/1.0\r\n\r\n".encode())
        self.sock.setblocking(False)
        self.buffer = b""
        self.head = False
        self.after = after
        self.received = 0
        self.last = after

    def feed(self, data, now, stats):
        """Counts whole messages only (up to the last blank line); C-speed bytes.count, so that
        one Python process can keep up with 100 streams."""
        self.buffer += data
        if not self.head:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head = True
            self.buffer = b"\n" + self.buffer[end + 4:]
        end = self.buffer.rfind(b"\n\n")
        if end < 0:
            return
        whole, self.buffer = self.buffer[:end + 1], self.buffer[end + 1:]
        count = whole.count(b"\nid: ")
        if count:
            at = whole.rfind(b"\nid: ") + 5
            number = int(whole[at:whole.index(b"\n", at)])
            self.received += count
            self.last = number
            stats["first"] = stats["first"] or now
            stats["last"] = now


def main():
    base, count = sys.argv[1], int(sys.argv[2])
    host, port = base.split("//")[1].rstrip("/").split(":")
    after = last_id(base)
    selector = selectors.DefaultSelector()
    clients = [Client(host, int(port), after) for _ in range(count)]
    for client in clients:
        selector.register(client.sock, selectors.EVENT_READ, client)
    stats = {"first": None, "last": None}
    while not all(c.head for c in clients):
        for key, _ in selector.select(timeout=10):
            key.data.feed(key.fileobj.recv(1 << 20), time.monotonic(), stats)
    print("ready", flush=True)
    quiet_since, target, closed = time.monotonic(), None, 0
    while True:
        events = selector.select(timeout=0.2)
        now = time.monotonic()
        for key, _ in events:
            data = key.fileobj.recv(1 << 20)
            if not data:
                selector.unregister(key.fileobj)
                closed += 1
                continue
            key.data.feed(data, now, stats)
        if events:
            quiet_since = now
        elif now - quiet_since > 2 and stats["first"] is not None:
            target = last_id(base)
            if all(c.last >= target for c in clients) or now - quiet_since > 30:
                break
    delivered = sum(c.received for c in clients)
    span = max((stats["last"] or 0) - (stats["first"] or 0), 1e-6)
    # Every event once: as many messages as ids, ending at the server's last.
    complete = sum(1 for c in clients if c.last == target and c.received == target - c.after)
    per_client = delivered / count
    lag = max(target - c.last for c in clients)
    print(f"clients {count} events {per_client:.0f} first_to_last_s {span:.3f} "
          f"delivered_per_s {delivered / span:.0f} complete {complete} max_lag_events {lag} closed {closed}", flush=True)


if __name__ == "__main__":
    main()
