#!/usr/bin/env python3
"""Loopback traffic that echo-server and echo-client do not make, for captures/record:
linger-reset, syn-backlog, half-close.

Usage: scenarios.py NAME. Prints the server port, waits for a line on stdin ("go": the capture
is ready), plays the scenario, exits. Plain socket-module code, so each scenario reads like the
lesson it illustrates.
"""
import socket, struct, sys, threading, time

name = sys.argv[1]
family, host = socket.AF_INET, "127.0.0.1"

def listener(backlog=5):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(backlog)
    return s

server = listener(1 if name == "syn-backlog" else 5)
port = server.getsockname()[1]
print(port, flush=True)
sys.stdin.readline()

def serve_once(linger_reset=False, half_close=False):
    conn, _ = server.accept()
    data = conn.recv(100)
    if linger_reset:
        # SO_LINGER on with a 0 s timeout: close() discards the queue and sends RST, not FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close(); return
    if half_close:
        while conn.recv(100): pass         # read until the client's FIN (recv() returns b"")
        conn.sendall(b"still talking after your FIN")   # data after the peer's FIN: half-close
        conn.close(); return

if name in ("linger-reset", "half-close"):
    t = threading.Thread(target=serve_once, kwargs=dict(
        linger_reset=name == "linger-reset", half_close=name == "half-close"))
    t.start()
    c = socket.create_connection((host, port))
    c.sendall(b"Hello")
    if name == "half-close":
        c.shutdown(socket.SHUT_WR)         # our FIN: no more data from us, but we still read
        while c.recv(100): pass
    else:
        try: c.recv(100)
        except ConnectionResetError: pass  # the server's RST
    c.close()
    t.join()
elif name == "syn-backlog":
    # listen(1) and never accept(), as lesson 4's `echo-server --backlog 1`: Linux queues
    # backlog + 1 = 2 finished connections; the SYNs of the other two are dropped and their
    # kernels send them again (net.ipv4.tcp_syn_linear_timeouts: every second, at first).
    clients = []
    for _ in range(4):
        c = socket.socket(family, socket.SOCK_STREAM); c.setblocking(False)
        try: c.connect((host, port))
        except BlockingIOError: pass
        clients.append(c)
    time.sleep(4.5)
    for c in clients: c.close()
    server.close()
else:
    sys.exit("unknown scenario " + name)
time.sleep(0.2)
