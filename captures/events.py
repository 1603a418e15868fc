#!/usr/bin/env python3
"""Builds a capture's sidecar, NAME.events.jsonl, from what the programs recorded while it ran.

Usage: events.py OUT [--trace LABEL:PID:FILE]... [--tracer LABEL:FILE]... [--strace LABEL:FILE]... [--kernel FILE] [--link FILE]

--trace   the stderr of one of our tools run with --trace (`HH:MM:SS.uuuuuu call(...) -> r <d>`,
          the strace -tt -T convention). Each line becomes a "syscall" event; a traced
          write(fd 1, "...") also becomes the "output" event of the stdout line it wrote.
--tracer  the events handshake-watch's own tracer recorded (`handshake-watch -w X.pcap -- COMMAND`
          writes them to X.events.jsonl): what captures/record uses for programs without
          --trace (scenarios.py, curl). The calls on TCP sockets are kept as the tracer wrote
          them; LABEL "roles" labels each socket by what it became: "server" (bind, listen,
          accept) or "client" (connect); any other LABEL replaces the tracer's `python3 4242`.
          With --tracer, --kernel keeps only the kernel events of those sockets' ports.
--strace  the -o file of `strace -f -ttt -T` (epoch stamps) around a program without --trace.
          Kept as a converter for strace files users already have: captures/record no longer
          uses it. Socket calls become "syscall" events written as our tools write them
          (`connect(fd 3, 127.0.0.1:5000) -> 0`); LABEL "roles" as for --tracer.
--kernel  the stdout of `handshake-watch --kernel --format json`: its kernel events (state,
          reset-sent, reset-received, synack-retransmit, accept-queue, counter) are kept as
          they are; packets and connection summaries are not events (the capture has them).

Times are epoch seconds (EVENTS.md). A time of day is placed on the day nearest to now, less the
call's duration: the files are converted right after the recording.
"""
import json, re, sys, time

TRACE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{6}) ((\w+)\(.*) <(\d+\.\d{6})>$")
STRACE = re.compile(r"^(\d+) +(\d+)\.(\d{6}) (.*)$")
RESULT = re.compile(r"^(.*\)) += (.*?) <(\d+\.\d{6})>$")


def note_role(roles, slot, call):
    """A socket that binds, listens or accepts is the server's; one that connects, the client's."""
    if call in ("bind", "listen", "accept", "accept4"):
        roles.setdefault(slot, "server")
    if call == "connect":
        roles[slot] = "client"


def micros_of_day(h, m, s, us, near):
    """The epoch microseconds whose local time of day is h:m:s.us, nearest to `near` (seconds)."""
    best = None
    for offset in (-1, 0, 1):
        day = time.localtime(near + offset * 86400)
        for dst in (0, 1):
            t = time.mktime((day.tm_year, day.tm_mon, day.tm_mday, h, m, s, 0, 0, dst))
            lt = time.localtime(t)
            if (lt.tm_hour, lt.tm_min, lt.tm_sec) != (h, m, s):
                continue
            if best is None or abs(t - near) < abs(best - near):
                best = t
    return int(best) * 1_000_000 + us


def stamp(micros):
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def q(text):
    return json.dumps(text, ensure_ascii=False)


def syscall(micros, duration, label, pid, call, text):
    return (micros, f'{{"type":"syscall","time":{stamp(micros)},"duration":{duration},"label":{q(label)},'
                    f'"pid":{pid},"call":{q(call)},"text":{q(text)}}}')


def output(micros, label, stream, text):
    return (micros, f'{{"type":"output","time":{stamp(micros)},"label":{q(label)},"stream":{q(stream)},"text":{q(text)}}}')


def unquote(quoted):
    """strace's "..." string back to text: \\n \\t \\r \\v \\f \\" \\\\ and octal escapes."""
    out, i, body = bytearray(), 0, quoted[1:-1]
    names = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, '"': 34, "\\": 92}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode(); i += 1; continue
        nxt = body[i + 1]
        if nxt in names:
            out.append(names[nxt]); i += 2; continue
        digits = re.match(r"[0-7]{1,3}", body[i + 1:]).group(0)
        out.append(int(digits, 8)); i += 1 + len(digits)
    return out.decode("utf-8", "replace")


def from_trace(label, pid, path):
    events, now = [], time.time()
    for line in open(path, encoding="utf-8", errors="replace"):
        m = TRACE.match(line.rstrip("\n"))
        if not m:
            continue
        h, mi, s, us, text, call, duration = m.groups()
        micros = micros_of_day(int(h), int(mi), int(s), int(us), now - float(duration))
        events.append(syscall(micros, duration, label, pid, call, text))
        w = re.match(r'^write\(fd 1, (".*"), \d+\) -> \d+$', text)
        if w:
            for printed in unquote(w.group(1)).split("\n")[:-1]:   # one event per line written
                events.append(output(micros, label, "stdout", printed))
    return events


def address(args):
    port = re.search(r"sin6?_port=htons\((\d+)\)", args)
    v4 = re.search(r'inet_addr\("([^"]+)"\)', args)
    v6 = re.search(r'inet_pton\(AF_INET6, "([^"]+)"', args)
    if not port:
        return "?"
    return f"{v4.group(1)}:{port.group(1)}" if v4 else f"[{v6.group(1) if v6 else '?'}]:{port.group(1)}"


def ours(call, args, result):
    """An strace line's call in our tools' words; None for calls that are not about sockets."""
    first = args.split(",")[0].strip("() ")
    ok = not result.startswith("-1")
    shown = result.split(" ", 1)[1] if not ok else result
    if call == "socket":
        family = "AF_INET6" if "AF_INET6" in args else "AF_INET"
        return "socket", f"socket({family}, SOCK_STREAM) -> " + (f"fd {result}" if ok else shown)
    if call in ("accept", "accept4"):
        return "accept", f"accept(fd {first}) -> " + (f"fd {result} from {address(args)}" if ok else shown)
    if call == "connect":
        return "connect", f"connect(fd {first}, {address(args)}) -> {result if ok else shown}"
    if call == "bind":
        return "bind", f"bind(fd {first}, {address(args)}) -> {result if ok else shown}"
    if call == "listen":
        return "listen", f"listen(fd {first}, backlog {args.split(',')[1].strip(' )')}) -> {result if ok else shown}"
    if call in ("sendto", "send", "write"):
        parts = re.search(r'(?:"(?:[^"\\]|\\.)*"(?:\.\.\.)?|0x[0-9a-f]+|NULL), (\d+)', args)
        length = parts.group(1) if parts else "?"
        return "send", f"send(fd {first}, {length} bytes) -> {result if ok else shown}"
    if call in ("recvfrom", "recv", "read"):
        parts = re.search(r'(?:"(?:[^"\\]|\\.)*"(?:\.\.\.)?|0x[0-9a-f]+|NULL), (\d+)', args)
        size = parts.group(1) if parts else "?"
        value = shown if not ok else ("0 (peer closed)" if result == "0" else result)
        return "recv", f"recv(fd {first}, {size}) -> {value}"
    if call == "shutdown":
        return "shutdown", f"shutdown(fd {first}, {args.split(',')[1].strip(' )')}) -> {result if ok else shown}"
    if call == "close":
        return "close", f"close(fd {first}) -> {result if ok else shown}"
    if call == "setsockopt":
        if "SO_LINGER" in args:
            on, seconds = re.search(r"l_onoff=(\d+), l_linger=(\d+)", args).groups()
            value = f"on, {seconds}s" if on != "0" else "off"
            return "setsockopt", f"setsockopt(fd {first}, SO_LINGER, {value}) -> {result if ok else shown}"
        name = args.split(",")[2].strip()
        value = re.search(r"\[(-?\d+)\]", args)
        return "setsockopt", f"setsockopt(fd {first}, {name}, {value.group(1) if value else '?'}) -> {result if ok else shown}"
    return None


def strace_calls(path):
    """(pid, micros, call, args, result, duration) per finished call; unfinished/resumed joined."""
    pending, calls = {}, []
    for line in open(path, encoding="utf-8", errors="replace"):
        m = STRACE.match(line.rstrip("\n"))
        if not m:
            continue
        pid, sec, us, rest = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
        micros = sec * 1_000_000 + us
        if rest.endswith("<unfinished ...>"):
            pending[pid] = (micros, rest[: -len("<unfinished ...>")].rstrip())
            continue
        resumed = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
        if resumed and pid in pending:
            micros, start = pending.pop(pid)
            rest = start + resumed.group(2)
        r = RESULT.match(rest)
        if not r or "(" not in r.group(1):
            continue
        head, result, duration = r.groups()
        call, args = head.split("(", 1)
        calls.append((pid, micros, call, "(" + args, result, duration))
    return calls


def from_strace(label, path):
    """Socket calls only: a descriptor counts from the socket()/accept() that made it to its close().
    Descriptors belong to the process, not the thread: strace -f names threads by their own ids."""
    sockets, events, roles, slots = {}, [], {}, 0
    for pid, micros, call, args, result, duration in strace_calls(path):
        fd = args.split(",")[0].strip("() ")
        if call == "socket" and not result.startswith("-1"):
            if "AF_INET" not in args:
                continue   # AF_UNIX (curl asking nscd, ...): not a TCP socket
            slots += 1; sockets[result] = slots; slot = slots
        elif call in ("accept", "accept4") and not result.startswith("-1"):
            slots += 1; sockets[result.split()[0]] = slots; roles[slots] = "server"
            slot = sockets.get(fd)
        else:
            slot = sockets.get(fd)
            if slot is None:
                continue
        note_role(roles, slot, call)
        converted = ours(call, args, result)
        if converted is None:
            continue
        events.append((micros, duration, pid, converted, slot))
        if call == "close":
            sockets.pop(fd, None)
    out = []
    for micros, duration, pid, (call, text), slot in events:
        who = roles.get(slot, "scenario") if label == "roles" else label
        out.append(syscall(micros, duration, who, pid, call, text))
    return out


SOCKET_CALLS = {"bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername", "setsockopt",
                "getsockopt", "sendto", "sendmsg", "recvfrom", "recvmsg", "read", "write", "readv", "writev",
                "sendfile", "shutdown", "close", "fcntl", "socket"}


def micros_of(line):
    sec, frac = re.search(r'"time":(\d+)(?:\.(\d+))?', line).groups()
    return int(sec) * 1_000_000 + int((frac or "").ljust(6, "0")[:6])


def from_tracer(label, path, ports):
    """Our tracer's syscall events on TCP sockets, each line kept but for its label. A socket counts
    from the socket()/accept() that made it to its close(), per process (threads share it)."""
    sockets, roles, slots, kept = {}, {}, 0, []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("type") != "syscall" or event.get("call") not in SOCKET_CALLS:
            continue
        call, pid, result = event["call"], event.get("pid"), event.get("result")
        ok = isinstance(result, int) and result >= 0
        if call == "socket":
            if not ok or not event["text"].startswith(("socket(AF_INET,", "socket(AF_INET6,")) or "SOCK_STREAM" not in event["text"]:
                continue
            slots += 1; sockets[(pid, result)] = slots; slot = slots
        elif call in ("accept", "accept4"):
            slot = sockets.get((pid, event.get("fd")))
            if slot is None:
                continue
            if ok:
                slots += 1; sockets[(pid, result)] = slots; roles[slots] = "server"
        else:
            slot = sockets.get((pid, event.get("fd")))
            if slot is None:
                continue
        note_role(roles, slot, call)
        for key in ("lport", "rport"):
            if event.get(key):   # not 0: bind(..., 0) names no port yet
                ports.add(event[key])
        kept.append((micros_of(line), slot, event, line))
        if call == "close":
            sockets.pop((pid, event.get("fd")), None)
    out = []
    for micros, slot, event, line in kept:
        # The line as the tracer wrote it (its six-decimal times), with the new label.
        new = roles.get(slot, "scenario") if label == "roles" else label
        old = '"label":' + json.dumps(event["label"], ensure_ascii=False, separators=(",", ":"))
        out.append((micros, line.replace(old, '"label":' + json.dumps(new, ensure_ascii=False), 1)))
    return out


KERNEL_TYPES = {"state", "reset-sent", "reset-received", "synack-retransmit", "retransmit", "accept-queue", "counter"}


def from_kernel(path, ports=None):
    """The kernel events of a --kernel --format json run, each line unchanged; with `ports`, only
    those of sockets on these ports (and the counters, which belong to no socket)."""
    events = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if ports is not None and "lport" in event and event.get("lport") not in ports and event.get("rport") not in ports:
            continue
        if event.get("type") in KERNEL_TYPES:
            sec, frac = re.search(r'"time":(\d+)(?:\.(\d+))?', line).groups()
            events.append((int(sec) * 1_000_000 + int((frac or "").ljust(6, "0")[:6]), line))
    return events


def from_link(path):
    """The link-drop events of a `lab-link --format json` run, each line unchanged."""
    events = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("{") and json.loads(line).get("type") == "link-drop":
            sec, frac = re.search(r'"time":(\d+)(?:\.(\d+))?', line).groups()
            events.append((int(sec) * 1_000_000 + int((frac or "").ljust(6, "0")[:6]), line))
    return events


def main(argv):
    out, events, args = argv[0], [], argv[1:]
    ports, kernel = None, []
    while args:
        option, value, args = args[0], args[1], args[2:]
        if option == "--tracer":
            label, path = value.split(":", 1)
            ports = ports if ports is not None else set()
            events += from_tracer(label, path, ports)
        elif option == "--trace":
            label, pid, path = value.split(":", 2)
            events += from_trace(label, int(pid), path)
        elif option == "--strace":
            label, path = value.split(":", 1)
            events += from_strace(label, path)
        elif option == "--kernel":
            kernel.append(value)
        elif option == "--link":
            events += from_link(value)
        else:
            sys.exit(f"events.py: unknown option {option}")
    for path in kernel:   # after every --tracer: their ports are known
        events += from_kernel(path, ports)
    events.sort(key=lambda e: e[0])   # stable: a call's line stays before the output it wrote
    with open(out, "w", encoding="utf-8") as f:
        for _, line in events:
            f.write(line + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
