#!/usr/bin/env python3
"""The walkthrough's echo client, call for call: connect, sendall("Hello"), recv(10) until
every byte is back, close, with its try/except/finally.

    python3 client.py [PORT] [MESSAGE]     (5000 and "Hello" by default)

Exits 0 when the whole message came back, 1 otherwise.
"""
import socket
import sys

HOST = "localhost"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
MESSAGE = (sys.argv[2] if len(sys.argv) > 2 else "Hello").encode()

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
status = 1
try:
    client.connect((HOST, PORT))
    client.sendall(MESSAGE)
    received = b""
    while len(received) < len(MESSAGE):
        data = client.recv(10)
        if not data:
            break
        received += data
        print("client Received: %r" % data, flush=True)
    status = 0 if received == MESSAGE else 1
except OSError as error:
    print("client error: %s" % error, file=sys.stderr, flush=True)
finally:
    print("closing connection to the server", flush=True)
    client.close()
sys.exit(status)
