#!/usr/bin/env python3
"""The projector server against clients that ask for its big responses and never read them.

nonreaders.py WATCH CAPTURE [JSONL SVG HOLD EVENTS BACKLOG]
    Starts `WATCH -r CAPTURE --serve 0` and waits for the replay's end. Then JSONL clients ask
    for /events.jsonl, SVG clients for /ladder.svg (defaults 100 and 200) and EVENTS clients
    (default 0) resume /events BACKLOG events before the last (default 2,000: about 460 KB),
    each with a 4 KiB receive buffer, and read nothing past the first byte. For HOLD seconds (default 10) one
    client asks for the page (GET /) again and again, and the watcher's RSS is sampled every
    100 ms. Then the non-readers close, and the RSS is sampled for 5 s more.
Prints one line: the slowest GET / (s), the page loads, RSS before/peak/after (MB), threads at
the peak.
"""
import os, socket, subprocess, sys, threading, time

watch, capture = sys.argv[1], sys.argv[2]
jsonl = int(sys.argv[3]) if len(sys.argv) > 3 else 100
svg = int(sys.argv[4]) if len(sys.argv) > 4 else 200
hold = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
events = int(sys.argv[6]) if len(sys.argv) > 6 else 0
backlog = int(sys.argv[7]) if len(sys.argv) > 7 else 2000

proc = subprocess.Popen([watch, "-r", capture, "--serve", "0"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True)
port = None
deadline = time.time() + 600
for line in proc.stderr:
    if "serving the live view on" in line:
        port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
    if "packets captured" in line:
        break
    if time.time() > deadline:
        sys.exit("nonreaders: the replay did not end")
threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()

def status(field):
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0

def rss_mb():
    return status("VmRSS:") / 1024

def get(path, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data

get("/ladder.svg", 120)   # each whole once: the memory of a server that has drawn them
head = get("/events.jsonl", 120).split(b"\r\n\r\n", 1)[0].decode()
last_id = int([l for l in head.split("\r\n") if l.startswith("Last-Event-ID:")][0].split(":")[1])
before = rss_mb()

held = []
def non_reader(path):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(120)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    s.recv(1)   # the answer has begun
    held.append(s)

peak, threads, stop = [before], [0], threading.Event()
def sample():
    while not stop.is_set():
        r = rss_mb()
        if r > peak[0]:
            peak[0], threads[0] = r, status("Threads:")
        time.sleep(0.1)
sampler = threading.Thread(target=sample); sampler.start()

slowest, loads = [0.0], [0]
start = time.time()
# The page is asked for while the non-readers arrive and while they hold their streams.
page_until = [0]
def page_loop():
    while page_until[0] == 0 or time.time() < page_until[0]:
        t0 = time.time()
        body = get("/", 60)
        slowest[0] = max(slowest[0], time.time() - t0)
        loads[0] += 1
        assert b"<html" in body, body[:200]
        time.sleep(0.1)
loader = threading.Thread(target=page_loop); loader.start()
for _ in range(jsonl): non_reader("/events.jsonl")
for _ in range(svg): non_reader("/ladder.svg")
for _ in range(events): non_reader(f"/events?after={max(0, last_id - backlog)}")
opened = time.time() - start
page_until[0] = time.time() + hold
loader.join()
for s in held: s.close()
time.sleep(5)
stop.set(); sampler.join()
after = rss_mb()
proc.terminate(); proc.wait()
print(f"{slowest[0]:.3f} {loads[0]} {before:.1f} {peak[0]:.1f} {after:.1f} {threads[0]} {opened:.1f}")
