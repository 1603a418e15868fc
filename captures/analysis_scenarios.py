#!/usr/bin/env python3
"""Traffic for the TCP analysis captures (captures/record-analysis): lossy, slow-reader, keepalive.

Usage: analysis_scenarios.py server NAME HOST   (prints its port, serves one connection, exits)
       analysis_scenarios.py client NAME HOST PORT
Plain socket-module code, so each side reads like the lesson it illustrates.
"""
import socket, sys, time

role, name, host = sys.argv[1], sys.argv[2], sys.argv[3]
SIZES = {"lossy": 3_000_000, "slow-reader": 400_000, "keepalive": 5}

if role == "server":
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if name == "slow-reader":
        # A small receive buffer (set before listen(), so the handshake's window scale fits it):
        # the window closes after a few segments while this reader sleeps.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    server.bind((host, 0))
    server.listen(1)
    print(server.getsockname()[1], flush=True)
    conn, _ = server.accept()
    if name == "slow-reader":
        time.sleep(3)                     # read nothing: the window goes to 0, the client probes
    received = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        received += len(data)
        if name == "slow-reader":
            time.sleep(0.02)              # then read slowly: window updates, the window fills again
    conn.sendall(b"got %d bytes\n" % received)
    conn.close()
else:
    port = int(sys.argv[4])
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if name == "keepalive":
        # Keep-alives after 1 s of silence, then every second (Linux's TCP_KEEPIDLE, TCP_KEEPINTVL).
        client.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    client.connect((host, port))
    if name == "keepalive":
        client.sendall(b"Hello")
        time.sleep(3.5)                   # idle: three keep-alives and their answers
    else:
        client.sendall(b"x" * SIZES[name])
    client.shutdown(socket.SHUT_WR)
    while client.recv(100):
        pass
    client.close()
