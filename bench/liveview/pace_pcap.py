#!/usr/bin/env python3
"""Writes a pcap file to stdout at RATE packets per second (the file header at once), for
bench/liveview/run: a replay as fast as a live capture of that rate would be.

    pace_pcap.py RATE FILE [--skip-header]
"""
import sys
import time

rate, path = float(sys.argv[1]), sys.argv[2]
skip_header = "--skip-header" in sys.argv
out = sys.stdout.buffer
with open(path, "rb") as capture:
    header = capture.read(24)
    if not skip_header:
        out.write(header)
        out.flush()
    little = header[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    start, sent, batch = time.monotonic(), 0, []
    while True:
        record = capture.read(16)
        if len(record) < 16:
            break
        length = int.from_bytes(record[8:12], "little" if little else "big")
        batch.append(record + capture.read(length))
        sent += 1
        if len(batch) >= max(1, int(rate / 100)):   # about 100 writes a second
            out.write(b"".join(batch))
            out.flush()
            batch = []
            ahead = start + sent / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)   # pacing the writer, not synchronising a test
    out.write(b"".join(batch))
    out.flush()
