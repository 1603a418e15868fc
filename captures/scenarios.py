#!/usr/bin/env python3
"""Loopback traffic for the recorded captures (see README.md and ./record).

Usage: scenarios.py NAME. Prints the server port, waits for a line on stdin ("go": the capture
is ready), plays the scenario, exits. Plain socket-module code, so each scenario reads like the
lesson it illustrates.
"""
import socket, struct, sys, threading, time

name = sys.argv[1]
family = socket.AF_INET6 if name == "echo-ipv6" else socket.AF_INET
host = "::1" if family == socket.AF_INET6 else "127.0.0.1"

def listener(backlog=5):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(backlog)
    return s

if name == "refused":
    # Bind a port, then close it: nothing listens there any more.
    probe = listener(); port = probe.getsockname()[1]; probe.close()
else:
    server = listener(0 if name == "syn-backlog" else 5)
    port = server.getsockname()[1]
print(port, flush=True)
sys.stdin.readline()

def echo_once(delay=0.0, linger_reset=False, half_close=False):
    time.sleep(delay)                      # --accept-delay: the handshake is done before accept()
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
    conn.sendall(data)
    conn.recv(100)                         # returns b"" when the client closes
    conn.close()

if name in ("echo-ipv4", "echo-ipv6", "accept-delay", "linger-reset", "half-close"):
    t = threading.Thread(target=echo_once, kwargs=dict(
        delay=1.0 if name == "accept-delay" else 0.0,
        linger_reset=name == "linger-reset", half_close=name == "half-close"))
    t.start()
    c = socket.create_connection((host, port))
    c.sendall(b"Hello")
    if name == "half-close":
        c.shutdown(socket.SHUT_WR)         # our FIN: no more data from us, but we still read
        while c.recv(100): pass
    elif name == "linger-reset":
        try: c.recv(100)
        except ConnectionResetError: pass
    else:
        c.recv(100)
    c.close()
    t.join()
elif name == "refused":
    try: socket.create_connection((host, port))
    except ConnectionRefusedError: pass
elif name == "syn-backlog":
    # listen(0) and never accept(): the accept queue fills, further SYNs are dropped and the
    # clients retransmit them (after 1 s, then 2 s more).
    clients = []
    for _ in range(4):
        c = socket.socket(family, socket.SOCK_STREAM); c.setblocking(False)
        try: c.connect((host, port))
        except BlockingIOError: pass
        clients.append(c)
    time.sleep(3.5)
    for c in clients: c.close()
    server.close()
else:
    sys.exit("unknown scenario " + name)
time.sleep(0.2)
