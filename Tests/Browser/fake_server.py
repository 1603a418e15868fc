#!/usr/bin/env python3
"""A stand-in for `handshake-watch --serve`, to develop and test the live view's page.

It serves the same endpoints the real server will:
  /              the page (Sources/LiveView/Resources/index.html)
  /events        Server-Sent Events, one JSON event per message, `id:` = 1, 2, 3...;
                 resumes after the request's Last-Event-ID header (or ?after=N); an id older
                 than the events kept gets `event: reset`; `event: end` once all are sent (--end)
  /words.json    the wording table, Tests/Browser/words.json (a copy of StepWording.json a test keeps equal)
  /events.jsonl  every event kept, with the header Last-Event-ID: <id of the last line>
  /ladder.svg    404 here (the Swift server writes it)
  /_test/drop    test hook: the server closes every open event stream (browsers reconnect)
  /_test/reset   test hook: as drop, and the next resumed streams get `event: reset`, as if
                 the ring had moved past their Last-Event-ID (the page reloads /events.jsonl)
Each stream's start is logged on stderr: `stream after N (Last-Event-ID|query|start)`.

Events come from JSON Lines files (--jsonl) and from capture files (--pcap, converted with
`handshake-watch -r FILE --format json`). Each file's connection numbers are shifted to follow
the previous file's. --repeat N makes N copies (new connection numbers and client ports, a little
later each), to show a class of 30 clients.

Prints `serving on http://127.0.0.1:PORT/` on stderr once it listens (port 0 picks one).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAGE = os.path.join(ROOT, "Sources", "LiveView", "Resources", "index.html")


def events_of_capture(path, binary):
    output = subprocess.run([binary, "-r", path, "--format", "json"], check=True,
                            capture_output=True, text=True).stdout
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def events_of_jsonl(path):
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def renumber(events, offset):
    """Shifts the connection numbers of one file's events by `offset`; returns the highest."""
    highest = offset
    for event in events:
        if isinstance(event.get("conn"), int):
            event["conn"] += offset
            highest = max(highest, event["conn"])
    return highest


def copies(events, count):
    """`count` copies of the events: new connection numbers, client ports + k, 3 ms later each."""
    conns = {e["conn"] for e in events if isinstance(e.get("conn"), int)}
    width = max(conns) if conns else 0
    servers = {e["server"] for e in events if e.get("type") == "connection"}
    out = []
    for k in range(count):
        for event in events:
            e = dict(event)
            if isinstance(e.get("time"), (int, float)):
                e["time"] = round(e["time"] + 0.003 * k, 6)
            if isinstance(e.get("conn"), int):
                e["conn"] += width * k
            if e.get("type") == "packet":
                for port, address in (("sport", "src"), ("dport", "dst")):
                    if f"{e[address]}:{e[port]}" not in servers and f"[{e[address]}]:{e[port]}" not in servers:
                        e[port] += k
            if e.get("type") == "connection":
                host, _, port = e["client"].rpartition(":")
                e["client"] = f"{host}:{int(port) + k}"
            out.append(e)
    out.sort(key=lambda e: e.get("time", float("inf")))
    return out


class Feed:
    """The events kept, in order, and a condition to wake the streams when one arrives."""

    def __init__(self, keep):
        self.keep = keep
        self.lines = []          # (id, json text)
        self.first_id = 1
        self.complete = False
        self.generation = 0      # bumped by /_test/drop: streams of an older generation end
        self.reset_resumed = False
        self.changed = threading.Condition()

    def add(self, event):
        with self.changed:
            next_id = self.first_id + len(self.lines)
            self.lines.append((next_id, json.dumps(event, separators=(",", ":"))))
            if self.keep and len(self.lines) > self.keep:
                del self.lines[0]
                self.first_id += 1
            self.changed.notify_all()

    def finish(self):
        with self.changed:
            self.complete = True
            self.changed.notify_all()

    def drop_streams(self):
        with self.changed:
            self.generation += 1
            self.changed.notify_all()


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-live-view/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), format % args))

    def do_GET(self):
        url = urlparse(self.path)
        routes = {"/": self.page, "/index.html": self.page, "/events": self.events,
                  "/events.jsonl": self.jsonl, "/words.json": self.words,
                  "/_test/drop": self.drop, "/_test/reset": self.reset}
        route = routes.get(url.path)
        if route is None:
            self.send_error(404)
            return
        route(parse_qs(url.query))

    def page(self, _query):
        with open(PAGE, "rb") as file:
            body = file.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def words(self, _query):
        # StepWording.json, as the real server makes it (StepWordingTests keeps this copy equal).
        with open(os.path.join(ROOT, "Tests", "Browser", "words.json"), "rb") as file:
            body = file.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def jsonl(self, _query):
        feed = self.server.feed
        with feed.changed:
            lines = list(feed.lines)
        body = "".join(text + "\n" for _, text in lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Event-ID", str(lines[-1][0] if lines else 0))
        self.end_headers()
        self.wfile.write(body)

    def drop(self, _query):
        self.server.feed.drop_streams()
        self.server.drops += 1
        body = b"dropped\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reset(self, query):
        self.server.feed.reset_resumed = True
        self.drop(query)

    def events(self, query):
        feed = self.server.feed
        header, asked = self.headers.get("Last-Event-ID"), (query.get("after") or [None])[0]
        try:
            after = int(header or asked or 0)
        except ValueError:
            after = 0
        how = "Last-Event-ID" if header else "query" if asked else "start"
        print(f"stream after {after} ({how})", file=sys.stderr, flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.stream(feed, after)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def stream(self, feed, after):
        self.wfile.write(b"retry: 500\n\n")
        self.wfile.write(f'event: source\ndata: {{"source":"{self.server.source}"}}\n\n'.encode())
        with feed.changed:
            generation = feed.generation
            told_to_reset = feed.reset_resumed and after > 0
            feed.reset_resumed = feed.reset_resumed and not told_to_reset
            if told_to_reset or (after and after < feed.first_id - 1):
                self.wfile.write(b"event: reset\ndata: {}\n\n")
                return
        while True:
            with feed.changed:
                feed.changed.wait_for(lambda: feed.generation != generation or feed.complete
                                      or (feed.lines and feed.lines[-1][0] > after), timeout=15)
                if feed.generation != generation:
                    return
                pending = [(i, text) for i, text in feed.lines if i > after]
                done = feed.complete and not pending
            if done:
                if self.server.send_end:
                    self.wfile.write(b"event: end\ndata: {}\n\n")
                    self.wfile.flush()
                    return
                with feed.changed:
                    feed.changed.wait_for(lambda: feed.generation != generation, timeout=15)
                continue
            if not pending:
                self.wfile.write(b": keep-alive\n\n")
            for event_id, text in pending:
                self.wfile.write(f"id: {event_id}\ndata: {text}\n\n".encode())
                after = event_id
            self.wfile.flush()


def produce(feed, events, pace):
    for event in events:
        if pace:
            time.sleep(pace)
        feed.add(event)
    feed.finish()


def stop_on_signals():
    """SIGTERM and SIGINT end the server. A parent may have blocked them (a test runner that waits
    for signals does), and a child inherits the mask: unblock them first."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))


def main():
    stop_on_signals()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pcap", action="append", default=[], help="a capture file (via handshake-watch)")
    parser.add_argument("--jsonl", action="append", default=[], help="a JSON Lines file of events")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "handshake-watch"))
    parser.add_argument("--repeat", type=int, default=1, help="copies of the events (connections)")
    parser.add_argument("--pace", type=float, default=0, help="seconds between events (a live feed)")
    parser.add_argument("--keep", type=int, default=0, help="events kept (older Last-Event-IDs get a reset)")
    parser.add_argument("--end", action="store_true", help="send `event: end` after the last event")
    parser.add_argument("--source", choices=["live", "replay"],
                        help="what `event: source` says (default: live with --pace, else replay)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    events, offset = [], 0
    for path in args.pcap:
        part = events_of_capture(path, args.binary)
        offset = renumber(part, offset)
        events += part
    for path in args.jsonl:
        part = events_of_jsonl(path)
        offset = renumber(part, offset)
        events += part
    if args.repeat > 1:
        events = copies(events, args.repeat)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.feed = Feed(args.keep)
    server.send_end = args.end
    server.source = args.source or ("live" if args.pace > 0 else "replay")
    server.verbose = args.verbose
    server.drops = 0
    threading.Thread(target=produce, args=(server.feed, events, args.pace), daemon=True).start()
    print(f"serving on http://127.0.0.1:{server.server_address[1]}/", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
