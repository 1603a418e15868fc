#!/usr/bin/env python3
"""Writes a synthetic pcap of TCP connections on Ethernet/IPv4 for bench/handshake/run.

gen_capture.py interleaved PACKETS FILE [TUPLES]
                                          complete echo connections (10 packets each: handshake,
                                          "Hello" both ways, FIN, FIN, last ACK), 64 at a time;
                                          with TUPLES, connection n reuses 4-tuple n % TUPLES
                                          (tcpdump keeps every 4-tuple it saw in a hash table
                                          that never shrinks, which slows it as they grow)
gen_capture.py open-all CONNECTIONS FILE  every connection's handshake first (all open at once),
                                          then every teardown
"""
import struct, sys

mode, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tuples = int(sys.argv[4]) if len(sys.argv) > 4 else 1 << 30
ETH = b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x02\x08\x00"
SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10

out = open(path, "wb", buffering=1 << 20)
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
clock = [1_700_000_000 * 1_000_000]

def packet(src, dst, sport, dport, flags, seq, ack, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst) + tcp
    frame = ETH + ip
    clock[0] += 7
    out.write(struct.pack("<IIII", clock[0] // 1_000_000, clock[0] % 1_000_000, len(frame), len(frame)) + frame)

def endpoints(n):
    n %= tuples
    client = bytes([10, 1 + (n >> 16 & 0x7F), n >> 8 & 0xFF, n & 0xFF])
    return client, b"\x0a\x00\x00\x01", 1024 + n % 60000, 5000

def handshake(n):
    c, s, cp, sp = endpoints(n)
    packet(c, s, cp, sp, SYN, 1000, 0)
    packet(s, c, sp, cp, SYN | ACK, 9000, 1001)
    packet(c, s, cp, sp, ACK, 1001, 9001)

def data(n):
    c, s, cp, sp = endpoints(n)
    packet(c, s, cp, sp, PSH | ACK, 1001, 9001, b"Hello")
    packet(s, c, sp, cp, ACK, 9001, 1006)
    packet(s, c, sp, cp, PSH | ACK, 9001, 1006, b"Hello")
    packet(c, s, cp, sp, ACK, 1006, 9006)

def teardown(n, seq_c=1006, seq_s=9006):
    c, s, cp, sp = endpoints(n)
    packet(c, s, cp, sp, FIN | ACK, seq_c, seq_s)
    packet(s, c, sp, cp, FIN | ACK, seq_s, seq_c + 1)
    packet(c, s, cp, sp, ACK, seq_c + 1, seq_s + 1)

if mode == "interleaved":
    connections = count // 10
    batch = 64
    for start in range(0, connections, batch):
        group = range(start, min(start + batch, connections))
        for n in group: handshake(n)
        for n in group: data(n)
        for n in group: teardown(n)
elif mode == "open-all":
    for n in range(count): handshake(n)
    for n in range(count): teardown(n, 1001, 9001)
else:
    sys.exit(__doc__)
out.close()
