#!/usr/bin/env python3
"""bench/trace's client: N round trips of a 64-byte message over one connection, the
walkthrough's calls (sendall, recv until every byte is back). Prints the seconds they took.

    python3 roundtrips.py PORT [N] [FILE]

The seconds go to FILE when given (a traced run's stdout is shared with the watcher's).
"""
import socket
import sys
import time

port = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
message = b"x" * 64
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
client.connect(("127.0.0.1", port))
start = time.monotonic()
for _ in range(count):
    client.sendall(message)
    received = 0
    while received < len(message):
        data = client.recv(2048)
        if not data:
            sys.exit("the server closed early")
        received += len(data)
elapsed = time.monotonic() - start
client.close()
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as out:
        out.write("%.6f\n" % elapsed)
else:
    print("%.6f" % elapsed)
