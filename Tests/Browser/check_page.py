#!/usr/bin/env python3
"""Opens the live view in a real headless Chromium and checks what a class would see.

    check_page.py URL [--screenshot FILE] [--console-log FILE] [--handshake] [--events N]
                      [--connections N] [--drop URL] [--reset URL] [--keyboard]
                      [--visit-all [--labels FILE] [--lost FILE] [--pills FILE] [--details FILE]] [--source S] [--ended]
                      [--timeout SECONDS]

Every wait is bounded by --timeout (default 60 s); nothing sleeps to synchronise. Checks:
  --handshake      the diagram shows a SYN, a SYN-ACK and an ACK arrow, in that order, each
                   labelled with its flags and relative numbers ("SYN seq 0", "SYN,ACK seq 0 ack 1",
                   "ACK seq 1 ack 1")
  --events N       the page holds exactly N events (waits until it does, fails on more)
  --connections N  the connection list shows N connections
  --drop URL       once the first check passed, GET URL (a test hook that drops the event stream
                   on the server's side); the page must reconnect and still hold each event once
  --reset URL      GET URL (a test hook that makes the server answer the page's resume with
                   `event: reset`); the page must reload /events.jsonl, then go on streaming
  --keyboard       the keys work: space steps to an event and shows its fields, Escape goes back
                   to live, p pauses and resumes, t switches the theme, pointing at the first
                   arrow shows its explanation
  --visit-all      clicks every connection of the list in turn; each one's diagram must be drawn
                   (its arrows, its summary line)
  --labels FILE    with --visit-all: writes every arrow's label and caption, a line each
                   (`SYN seq 0<TAB>1/3 connect() sends SYN, blocks`), connection after connection
  --pills FILE     with --visit-all: writes each connection's state pills, a line each
                   (`#1 client:SYN_SENT server:SYN_RECV ... client:TIME_WAIT`)
  --lost FILE      with --visit-all: writes the title of every lost arrow (a `link-drop`, drawn
                   ending in ✗ halfway), a line each
  --details FILE   with --visit-all: points at every arrow whose packet has findings (`analysis`)
                   or SACK blocks, and writes what the details panel then says, a line each
                   (`#1<TAB>ACK seq 36201 ack 1 len 1448: Retransmission of bytes 36201–37648 ...`);
                   the first retransmission of each connection is pointed at with the mouse and
                   must show its arrow's sentence, the others by the same mouseover event
  --source S       the status badge says S (`live` or `replay`), as the server's `event: source` said
  --ended          the status line says the capture ended (event: end)
  --events-url URL the page holds exactly as many events as the server's /events.jsonl says it
                   kept (its Last-Event-ID header), and no message came twice (after --drop too)
  --reconnected    the event stream was opened at least twice (after --drop)
Prints `check_page: page open` on stderr once the page has loaded (a test may then make traffic).
Always: no JavaScript error in the console (the whole console log goes to --console-log), and
a screenshot (--screenshot, kept as a test artifact) that is not blank.
Exit status 0 when every check passed; 1 with one line per failure on stderr otherwise.
Needs Debian's chromium and chromium-driver, and selenium (scripts/setup-browser installs them).
"""
import argparse
import json
import struct
import sys
import time
import urllib.request
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def start_browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1600,1000", "--hide-scrollbars"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_until(what, check, timeout):
    """Polls `check` (which returns a truthy value when satisfied) until it is, or fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)   # polling interval, not synchronisation: the deadline bounds the wait
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


SEGMENTS = """
return [...document.querySelectorAll('#ladder g.seg')].map((g) => ({
  step: g.dataset.step, flags: g.dataset.flags, label: g.querySelector('text.label').textContent }));
"""


def handshake_seen(driver):
    """The SYN, SYN-ACK, ACK arrows with their labels, in order, or None while not all are there."""
    wanted = [("handshake-syn", "SYN seq 0"), ("handshake-syn-ack", "SYN,ACK seq 0 ack 1"),
              ("handshake-ack", "ACK seq 1 ack 1")]
    segments = driver.execute_script(SEGMENTS)
    at = 0
    for segment in segments:
        if at < len(wanted) and segment["step"] == wanted[at][0]:
            if segment["label"] != wanted[at][1]:
                raise AssertionError(f"{segment['step']} arrow labelled {segment['label']!r}, wanted {wanted[at][1]!r}")
            at += 1
    return segments if at == len(wanted) else None


def png_is_blank(data):
    """True when every pixel of the PNG has one colour (8-bit RGB or RGBA, as Chromium writes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("the screenshot is not a PNG")
    at, chunks, header = 8, [], None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + length
    width, height, depth, colour = header[0], header[1], header[2], header[3]
    if depth != 8 or colour not in (2, 6):
        raise AssertionError(f"unexpected PNG format (depth {depth}, colour type {colour})")
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * channels
    previous, colours = bytearray(stride), set()
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        unfilter(kind, line, previous, channels)
        if row % 4 == 0:
            colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels * 4))
        if len(colours) > 1:
            return False
        previous = line
    return True


def unfilter(kind, line, previous, bpp):
    """Undoes one PNG row filter in place (RFC 2083, section 6)."""
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        upper_left = previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 2:
            line[i] = (line[i] + up) & 255
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 255
        elif kind == 4:
            p = left + up - upper_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upper_left)) & 255


def held_events(driver):
    return driver.execute_script("return model.events.length")


def keyboard(driver):
    """Presses the teacher's keys and checks what each one does to the page."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    state = lambda: driver.execute_script(
        "return {stepping: view.stepping, upto: view.upto, theme: document.documentElement.dataset.theme,"
        " details: document.querySelector('#details .sentence').textContent,"
        " mode: document.getElementById('mode').textContent}")
    body = driver.find_element("css selector", "body")
    body.send_keys(Keys.SPACE)
    body.send_keys(Keys.SPACE)
    wait_until("space to step", lambda: state()["stepping"] and state()["mode"].startswith("step: event"), 10)
    first = state()["upto"]
    body.send_keys(Keys.SHIFT, Keys.SPACE)
    wait_until("shift+space to step back", lambda: state()["upto"] == first - 1, 10)
    body.send_keys(Keys.ESCAPE)
    wait_until("Escape to go back to live", lambda: not state()["stepping"] and state()["mode"] == "", 10)
    body.send_keys("p")
    wait_until("p to pause", lambda: state()["mode"].startswith("paused"), 10)
    body.send_keys("p")
    wait_until("p to resume", lambda: state()["mode"] == "", 10)
    theme = state()["theme"]
    body.send_keys("t")
    wait_until("t to switch the theme", lambda: state()["theme"] != theme, 10)
    arrow = driver.find_element("css selector", "#ladder g.seg")
    ActionChains(driver).move_to_element(arrow).perform()
    wait_until("the first arrow's explanation", lambda: "1/3" in state()["details"], 10)


ARROWS = """
return [...document.querySelectorAll('#ladder g.seg')].map((g) =>
  g.querySelector('text.label').textContent + '\\t' + g.querySelector('text.caption').textContent);
"""


LOST = """
return [...document.querySelectorAll('#ladder g.lost, #ladder g.seg')].map((g) => g.querySelector('title').textContent)
  .filter((title) => title.includes(' lost ('));
"""

# Each state pill of the diagram: `client:TIME_WAIT` (its side, from its title, and its label).
PILLS = """
return [...document.querySelectorAll('#ladder g.state')].map((g) =>
  g.querySelector('title').textContent.split(':')[0] + ':' + g.querySelector('text').textContent).join(' ');
"""


# The details panel's sentence for every arrow with findings or SACK: a mouseover on the arrow, as a
# pointer makes, runs the page's own handler (showDetails), which fills #details at once.
DETAILS = """
const said = [];
for (const g of document.querySelectorAll('#ladder g.seg')) {
  const event = model.events[Number(g.dataset.index)].event;
  if (!(Array.isArray(event.analysis) && event.analysis.length) && !Array.isArray(event.sack)) continue;
  g.querySelector('line.hit').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  said.push(document.querySelector('#details .sentence').textContent);
}
return said;
"""


def details_of_retransmission(driver, number, timeout):
    """Moves the mouse onto the connection's first retransmitted segment; its details panel must
    then show that arrow's sentence (its title: `label: sentence`). Nothing when there is none."""
    from selenium.webdriver.common.action_chains import ActionChains
    arrows = driver.find_elements("css selector", '#ladder g.seg[data-step="retransmit"]')
    if not arrows:
        return
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", arrows[0])
    ActionChains(driver).move_to_element(arrows[0].find_element("css selector", "line.hit")).perform()
    title = arrows[0].find_element("css selector", "title").get_attribute("textContent")
    shown = lambda: driver.find_element("css selector", "#details .sentence").text
    wait_until(f"connection {number}'s retransmission explained in the details panel", lambda: shown() == title, timeout)


def visit_all(driver, timeout, labels=None, lost_file=None, pills_file=None, details_file=None):
    """Clicks each connection of the list; its diagram must show its arrows and summary line.

    The page draws on its next frame, not on each event: first wait until the list shows every
    connection the page holds (at least one), so that no connection is left unvisited."""
    # The stream opens once the page has its words (words.json): wait for a first connection.
    wait_until("a connection to visit", lambda: driver.execute_script("return model.connections.size") > 0, timeout)
    held = driver.execute_script("return model.connections.size")
    rows = "#connections li:not([hidden]) button"
    wait_until(f"the list to show all {held} connections",
               lambda: len(driver.find_elements("css selector", rows)) == held, timeout)
    buttons = driver.find_elements("css selector", rows)
    arrows, lost, pills, details = [], [], [], []
    for button in buttons:
        number = button.get_attribute("textContent").split()[0]    # "#12"
        # A click through the DOM: with one connection the list is hidden, and still works.
        driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'}); arguments[0].click()", button)
        wait_until(f"the diagram of connection {number}", lambda: driver.execute_script(
            "return document.getElementById('summary').textContent.split(' ')[0] === arguments[0]"
            " && document.querySelectorAll('#ladder g.seg').length > 0", number), timeout)
        arrows += driver.execute_script(ARROWS)
        lost += driver.execute_script(LOST)
        pills.append(f"{number} {driver.execute_script(PILLS)}".rstrip())
        if details_file:
            details_of_retransmission(driver, number, timeout)
            details += [f"{number}\t{sentence}" for sentence in driver.execute_script(DETAILS)]
    if details_file:
        with open(details_file, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in details))
    if pills_file:
        with open(pills_file, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in pills))
    if lost_file:
        with open(lost_file, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in lost))
    if labels:
        with open(labels, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in arrows))


def server_last_id(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return int(response.headers["Last-Event-ID"])


def every_event_once(driver, url, timeout, failures):
    """Waits until the page holds every event the server kept, each once."""
    def settled():
        held = held_events(driver)
        kept = server_last_id(url, timeout)
        if held > kept:
            raise AssertionError(f"the page holds {held} events, the server kept {kept}")
        return held == kept and kept > 0
    wait_until("every event the server kept", settled, timeout)
    duplicates = driver.execute_script("return wire.duplicates")
    if duplicates:
        failures.append(f"{duplicates} messages came twice")


def graph(driver, text, timeout, failures):
    """The second view: g shows the selected connection's time-sequence graph (the server's
    timeseq.svg, inline); its SVG must hold `text` (a plot's label, such as the cwnd plot's)."""
    wait_until("a connection selected", lambda: driver.execute_script(
        "return document.querySelectorAll('#connections li:not([hidden])').length") > 0, timeout)
    driver.find_element("css selector", "body").send_keys("g")
    inline = lambda: driver.execute_script(
        "const box = document.getElementById('timeseq');"
        " const svg = box.querySelector('svg'); return [box.hidden, svg ? svg.textContent : null]")
    wait_until("the time-sequence graph in the page", lambda: inline()[0] is False and inline()[1] is not None, timeout)
    if text not in inline()[1]:
        failures.append(f"the page's time-sequence graph does not hold {text!r}")


def run(args, driver, failures):
    driver.get(args.url)
    print("check_page: page open", file=sys.stderr, flush=True)
    if args.handshake:
        wait_until("the SYN, SYN-ACK and ACK arrows", lambda: handshake_seen(driver), args.timeout)
    if args.drop:
        urllib.request.urlopen(args.drop, timeout=args.timeout).read()
        print("check_page: dropped the event stream", file=sys.stderr)
    if args.reset:
        if args.events is not None:
            wait_until(f"{args.events} events before the reset", lambda: held_events(driver) >= args.events, args.timeout)
        reloads = driver.execute_script("return wire.reloads")
        urllib.request.urlopen(args.reset, timeout=args.timeout).read()
        wait_until("the page to reload /events.jsonl",
                   lambda: driver.execute_script("return wire.reloads") > reloads, args.timeout)
    if args.events is not None:
        wait_until(f"{args.events} events", lambda: held_events(driver) >= args.events, args.timeout)
        ids = driver.execute_script("return model.lastId")
        held = held_events(driver)
        if held != args.events:
            failures.append(f"the page holds {held} events, wanted each of {args.events} once (last id {ids})")
    if args.reconnected:
        wait_until("the event stream to reopen", lambda: driver.execute_script("return wire.streams") >= 2, args.timeout)
    if args.events_url:
        every_event_once(driver, args.events_url, args.timeout, failures)
    if args.connections is not None:
        shown = lambda: driver.execute_script(
            "return document.querySelectorAll('#connections li:not([hidden])').length")
        wait_until(f"{args.connections} connections in the list", lambda: shown() >= args.connections, args.timeout)
        if shown() != args.connections:
            failures.append(f"the list shows {shown()} connections, wanted {args.connections}")
    if args.keyboard:
        keyboard(driver)
    if args.visit_all:
        visit_all(driver, args.timeout, args.labels, args.lost, args.pills, args.details)
    if args.source:
        status = lambda: driver.execute_script(
            "const s = document.getElementById('status'); return [s.dataset.link, s.textContent]")
        wait_until(f"the status badge to say {args.source}", lambda: status() == [args.source, args.source], args.timeout)
    if args.graph:
        graph(driver, args.graph, args.timeout, failures)
    if args.ended:
        wait_until("the end of the capture", lambda: driver.execute_script(
            "return document.getElementById('status').dataset.link") == "ended", args.timeout)


def main():
    parser = argparse.ArgumentParser(description="Checks the live view in headless Chromium.")
    parser.add_argument("url")
    parser.add_argument("--screenshot", default="live-view.png")
    parser.add_argument("--console-log")
    parser.add_argument("--handshake", action="store_true")
    parser.add_argument("--events", type=int)
    parser.add_argument("--connections", type=int)
    parser.add_argument("--drop")
    parser.add_argument("--reset")
    parser.add_argument("--keyboard", action="store_true")
    parser.add_argument("--visit-all", action="store_true")
    parser.add_argument("--labels")
    parser.add_argument("--lost")
    parser.add_argument("--pills")
    parser.add_argument("--details")
    parser.add_argument("--ended", action="store_true")
    parser.add_argument("--graph", help="press g and wait for the selected connection's time-sequence graph; "
                        "fail unless its SVG holds this text")
    parser.add_argument("--source", choices=["live", "replay"])
    parser.add_argument("--events-url")
    parser.add_argument("--reconnected", action="store_true")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    failures = []
    driver = start_browser()
    try:
        try:
            run(args, driver, failures)
        except AssertionError as failure:
            failures.append(str(failure))
        driver.save_screenshot(args.screenshot)
        with open(args.screenshot, "rb") as file:
            if png_is_blank(file.read()):
                failures.append(f"the screenshot {args.screenshot} is blank")
        log = driver.get_log("browser")
    finally:
        driver.quit()
    if args.console_log:
        with open(args.console_log, "w", encoding="utf-8") as file:
            for entry in log:
                file.write(json.dumps(entry) + "\n")
    for entry in log:
        if entry.get("level") == "SEVERE":
            failures.append(f"console error: {entry.get('message')}")
    for failure in failures:
        print(f"check_page: FAIL {failure}", file=sys.stderr)
    if not failures:
        print(f"check_page: ok ({args.url}, screenshot {args.screenshot})", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
