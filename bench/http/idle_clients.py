"""Opens N TCP connections to 127.0.0.1:PORT that send nothing, prints `connected N` once
every connect() has completed (or `connected K of N` at the deadline), then holds them open
until stdin closes. Used by bench/http/idle."""
import resource, selectors, socket, sys, time

port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
selector = selectors.DefaultSelector()
sockets, pending = [], 0
for _ in range(count):
    s = socket.socket()
    s.setblocking(False)
    if s.connect_ex(("127.0.0.1", port)) not in (0, 115):   # 115: EINPROGRESS
        s.close()
        continue
    sockets.append(s)
    selector.register(s, selectors.EVENT_WRITE)
    pending += 1
connected, deadline = 0, time.time() + 120
while pending and time.time() < deadline:
    for key, _ in selector.select(timeout=1):
        selector.unregister(key.fileobj)
        pending -= 1
        if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            connected += 1
print(f"connected {connected} of {count}", flush=True)
sys.stdin.read()
