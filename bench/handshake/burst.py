#!/usr/bin/env python3
"""Opens and closes N loopback connections as fast as it can, for bench/handshake/run.

Prints the listening port, waits for a line on stdin (the capture is ready), runs the burst
(a thread accepts and closes), prints the seconds it took, and lingers a moment so the last
teardowns are on the wire before the capture stops.
"""
import socket, sys, threading, time

n = int(sys.argv[1])
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(4096)
port = server.getsockname()[1]
print(port, flush=True)
sys.stdin.readline()

def accept_all():
    for _ in range(n):
        conn, _ = server.accept()
        conn.close()

acceptor = threading.Thread(target=accept_all)
acceptor.start()
start = time.time()
for _ in range(n):
    socket.create_connection(("127.0.0.1", port)).close()
acceptor.join()
print("%.4f" % (time.time() - start), flush=True)
time.sleep(1.0)
