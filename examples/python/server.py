#!/usr/bin/env python3
"""The walkthrough's echo server, call for call: socket, bind, listen(5), an accept loop,
recv(2048) and send until the client closes, close.

    python3 server.py [PORT]      (5000 by default; 0 picks a free port)

It prints its readiness line once listen() has returned, with the real port.
"""
import socket
import sys

HOST = "localhost"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 5000

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((HOST, PORT))
server.listen(5)
print("server start, listening %s:%d" % server.getsockname(), flush=True)

while True:
    conn, addr = server.accept()
    print("server Connected by %s:%d" % addr, flush=True)
    while True:
        data = conn.recv(2048)
        if not data:
            break
        print("server Recv Data: %r from %s:%d" % (data, addr[0], addr[1]), flush=True)
        conn.send(data)
    print("server Recv Over from %s:%d" % addr, flush=True)
    conn.close()
