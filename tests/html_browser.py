#!/usr/bin/env python3
"""The HTML reports in a real browser (Debian's headless Chromium).

For each command's `--html` page (run, timeline run, conform, attack, load; and the trend page
of two `load --history` runs) written in the same
run as its `--json` report: Chromium loads the page from a file, the script must have run
(<html data-txlab-ready="1">) without an error (no data-txlab-errors, no "Uncaught" in the
browser log), nothing may have been fetched (the page's Content-Security-Policy refuses every
fetch and the browser logs it), and the DOM must agree with the JSON: rows per case, call,
window, attack and isolation cell, FAILED rows with the exact request and answer, the filter
(#grade=FAILED) showing exactly the FAILED rows, changed claims highlighted between hops. Every
page is saved as a screenshot next to the pages and must not be blank.

The latency SVG of `load --svg` is rendered to PNG on a transparent canvas: its background must
be opaque and its axes drawn.

The checks are shown to fail on broken pages first (a script error, a script that never
finishes, a page that fetches from the network, a transparent SVG, a filter that hides nothing):
a check that cannot fail proves nothing.

usage: html_browser.py TXLAB SCENARIOS_DIR OUT_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


class Failure(Exception):
    pass


def chromium(args, url, timeout=90):
    with tempfile.TemporaryDirectory(prefix="txlab-chromium-") as profile:
        p = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=" + profile, *args, url],
                           capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise Failure(f"chromium exited {p.returncode} on {url}: {p.stderr[-2000:]}")
    return p.stdout, p.stderr


# --- a minimal DOM: elements with attributes, parents and text ---------------------------------

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], ""

    def all(self, pred):
        out = []
        for c in self.children:
            if pred(c):
                out.append(c)
            out.extend(c.all(pred))
        return out

    def has_class(self, name):
        return name in (self.attrs.get("class") or "").split()

    def hidden(self):
        n = self
        while n is not None:
            if "hidden" in n.attrs:
                return True
            n = n.parent
        return False

    def inner_text(self):
        return self.text + "".join(c.inner_text() for c in self.children)


VOID = {"meta", "br", "input", "img", "link", "hr", "col", "source", "wbr", "area", "base"}


class Dom(HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data

    def find(self, tag=None, **attrs):
        def pred(n):
            if tag and n.tag != tag:
                return False
            for k, v in attrs.items():
                k = k.rstrip("_").replace("_", "-")
                if v is True:
                    if k not in n.attrs:
                        return False
                elif n.attrs.get(k) != v:
                    return False
            return True
        return self.root.all(pred)

    def by_id(self, ident):
        found = self.find(id=ident)
        if not found:
            raise Failure(f"no element with id {ident}")
        return found[0]


# --- PNG decoding (8-bit RGB/RGBA, not interlaced: what Chromium writes) ------------------------

def decode_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure(f"{path} is not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise Failure(f"{path}: unsupported PNG layout {depth}/{ctype}/{interlace}")
            channels = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def pixel(img, x, y):
    _, _, ch, rows = img
    px = rows[y][x * ch:(x + 1) * ch]
    return tuple(px) if ch == 4 else tuple(px) + (255,)


def distinct_colours(img, step=7):
    w, h, _, _ = img
    return len({pixel(img, x, y) for y in range(0, h, step) for x in range(0, w, step)})


# --- the checks ---------------------------------------------------------------------------------

def load_page(path, fragment=""):
    """The page's DOM after its script ran, and the problems the browser reported."""
    dom_text, log = chromium(["--dump-dom", "--virtual-time-budget=5000"],
                             "file://" + os.path.abspath(path) + fragment)
    dom = Dom(dom_text)
    html = dom.find("html")[0]
    problems = []
    if html.attrs.get("data-txlab-ready") != "1":
        problems.append("the page's script did not finish (no data-txlab-ready)")
    if html.attrs.get("data-txlab-errors"):
        problems.append(f"{html.attrs['data-txlab-errors']} script errors")
    for line in log.splitlines():
        if "Uncaught" in line:
            problems.append("browser log: " + line.strip()[-300:])
        if "Refused to" in line or "Content Security Policy" in line:
            problems.append("the page tried to fetch something: " + line.strip()[-300:])
    return dom, problems


def screenshot(path, png, width=1280, height=1600, transparent=False):
    args = ["--screenshot=" + png, f"--window-size={width},{height}"]
    if transparent:
        args.append("--default-background-color=00000000")
    chromium(args, "file://" + os.path.abspath(path))
    return png


def rows(dom, table_id, **attrs):
    return [r for r in dom.by_id(table_id).all(lambda n: n.tag == "tr" and "data-row" in n.attrs)
            if all(r.attrs.get("data-" + k) == v for k, v in attrs.items())]


def expect(cond, what):
    if not cond:
        raise Failure(what)


def check_clean(path):
    dom, problems = load_page(path)
    expect(not problems, f"{path}: " + "; ".join(problems))
    return dom


def check_run(path, report):
    dom = check_clean(path)
    expect(len(rows(dom, "calls")) == len(report["calls"]),
           f"run: {len(rows(dom, 'calls'))} call rows, the JSON has {len(report['calls'])}")
    sections = dom.find("section", class_="call")
    expect(sections, "run: no call drawn in detail")
    first = report["calls"][0]
    sec = [s for s in sections if s.attrs.get("data-call") == first["id"]]
    expect(sec, f"run: call {first['id']} is not drawn")
    hops = sec[0].all(lambda n: n.tag == "g" and n.has_class("hop"))
    expect(len(hops) == len(first["hops"]), f"run: {len(hops)} arrows for {len(first['hops'])} hops")
    cards = sec[0].all(lambda n: n.has_class("token"))
    expect(len(cards) == len(first["tokens"]), f"run: {len(cards)} token cards for {len(first['tokens'])}")
    # What changed from one hop's token to the next is listed and highlighted.
    for prev, tok, card in zip(first["tokens"], first["tokens"][1:], cards[1:]):
        changed = {li.attrs["data-changed"] for li in card.all(lambda n: "data-changed" in n.attrs)}
        for claim in ("iss", "aud", "act", "scope", "cnf"):
            differs = prev["claims"].get(claim) != tok["claims"].get(claim)
            expect(differs == (claim in changed),
                   f"run: {tok['label']}: {claim} {'changed' if differs else 'did not change'} "
                   f"but the page {'does not say so' if differs else 'says it did'}")
        marked = {tr.attrs["data-claim"] for tr in card.all(
            lambda n: n.tag == "tr" and (n.has_class("changed") or n.has_class("added")))}
        present = {c for c in changed if c in tok["claims"]}
        expect(present <= marked,
               f"run: {tok['label']}: changed claims {present} not all highlighted ({marked})")


def check_timeline(path, report):
    dom = check_clean(path)
    expect(len(rows(dom, "windows")) == len(report["windows"]), "timeline: a row per window")
    declared_failed = [w for w in report["windows"] if w["declared"] and w["failures"]]
    expect(len(rows(dom, "windows", verdict="FAIL")) == len(declared_failed), "timeline: failed windows")
    events = dom.by_id("events").all(lambda n: n.tag == "tr" and n.parent.tag == "tbody")
    expect(len(events) == len(report["events"]), "timeline: a row per event")
    expect(dom.find("svg", class_="chart"), "timeline: no chart of calls over time")


def check_conform(path, report):
    dom = check_clean(path)
    expect(len(rows(dom, "cases")) == len(report["cases"]), "conform: a row per case")
    # The rows that fail the run: FAILED, or NON-STRICT under --strict (the sample's convention
    # breaks a sentence that binds the token's consumer, so it is NON-STRICT at most).
    bad = "FAILED" if report["counts"]["FAILED"] else "NON-STRICT"
    failed = [c for c in report["cases"] if c["grade"] == bad]
    failed_rows = rows(dom, "cases", grade=bad)
    expect(len(failed_rows) == len(failed) == report["counts"][bad],
           f"conform: {len(failed_rows)} {bad} rows, the JSON has {len(failed)}")
    expect(failed and not report["passed"], "conform: the sample run must have failing cases to show")
    for r in failed_rows:
        detail = r.parent.children[r.parent.children.index(r) + 1]
        expect(detail.has_class("detail"), f"conform: a {bad} row without its detail")
        reqs = detail.all(lambda n: n.tag == "pre" and n.has_class("request"))
        resps = detail.all(lambda n: n.tag == "pre" and n.has_class("response"))
        expect(reqs and len(reqs) == len(resps), f"conform: a {bad} case without request/response")
        text = reqs[-1].inner_text()
        expect(text.startswith("POST ") and "grant_type=" in text, "conform: the request as sent")
        expect(resps[-1].inner_text().startswith("HTTP/1.1 "), "conform: the answer as received")
        expect("Authorization: Basic [redacted" in text or "client_secret=[redacted]" in text,
               "conform: client secrets must be redacted")
        expect("Expected:" in detail.inner_text() and "Actual:" in detail.inner_text(),
               "conform: Expected/Actual")
    # The filter, in the browser: #grade=FAILED shows exactly the FAILED rows.
    dom2, problems = load_page(path, "#grade=" + bad)
    expect(not problems, "conform (filtered): " + "; ".join(problems))
    shown = [r for r in rows(dom2, "cases") if not r.hidden()]
    expect(len(shown) == len(failed) and all(r.attrs["data-grade"] == bad for r in shown),
           f"conform: #grade={bad} shows {len(shown)} rows, want the {len(failed)} {bad} ones")
    expect(dom2.by_id("cases").attrs.get("data-shown") == str(len(failed)), "conform: shown count")


def check_attack(path, report):
    dom = check_clean(path)
    expect(len(rows(dom, "attacks")) == len(report["attacks"]), "attack: a row per attack")
    bad = [a for a in report["attacks"] if not a["passed"]]
    expect(len(rows(dom, "attacks", verdict="not rejected")) == len(bad), "attack: failed rows")
    cells = dom.by_id("isolation").all(lambda n: n.tag == "td" and n.has_class("cell"))
    expect(len(cells) == len(report["isolation"]["cells"]), "attack: an isolation cell per pair")
    mism = [c for c in cells if c.has_class("mismatch")]
    expect(len(mism) == report["isolation"]["mismatches"], "attack: isolation mismatches")


def check_load(path, report):
    dom = check_clean(path)
    expect(len(rows(dom, "paths")) == len(report["paths"]), "load: a row per path")
    charts = dom.find("svg", class_="chart")
    expect(len(charts) >= 3, "load: percentiles, rate and memory over time")
    expect(report["over_time"], "load: the JSON has percentiles over time")
    lines = charts[0].all(lambda n: n.tag == "polyline")
    expect(len(lines) == 3, "load: p50, p90 and p99 lines")


def check_history(path, lines):
    """load --history: a row per run with its label, a latency and a throughput chart per path."""
    dom = check_clean(path)
    runs = rows(dom, "runs")
    expect(len(runs) == len(lines), f"history: {len(runs)} rows for {len(lines)} runs")
    text = dom.by_id("runs").inner_text()
    for run in lines:
        expect(run["label"] in text, f"history: label {run['label']} missing")
    charts = dom.find("svg", class_="chart")
    expect(len(charts) == 2 * len(lines[-1]["paths"]), "history: two charts per path")
    expect(runs[-1].attrs.get("data-verdict") in ("ok", "REGRESSION"), "history: the last run is tested")


def check_png(png, what, min_colours=8):
    img = decode_png(png)
    expect(distinct_colours(img) >= min_colours, f"{what}: the screenshot is blank")
    return img


def check_svg_png(svg, png):
    """The latency chart on a transparent canvas: an opaque background, dark axis pixels."""
    import re
    head = open(svg, encoding="utf-8").read(400)
    size = re.search(r'<svg[^>]* width="(\d+)" height="(\d+)"', head)
    expect(size, f"{svg}: no width/height on the root element")
    img = decode_png(screenshot(svg, png, int(size.group(1)), int(size.group(2)), transparent=True))
    w, h, _, _ = img
    for x, y in ((2, 2), (w - 3, 2), (2, h - 3), (w // 2, h // 2)):
        r, g, b, a = pixel(img, x, y)
        expect(a == 255, f"{svg}: transparent background at ({x},{y}) (alpha {a})")
    dark = sum(1 for y in range(h) for x in range(0, w, 2) if sum(pixel(img, x, y)[:3]) < 200)
    expect(dark > 200, f"{svg}: no axes or text drawn ({dark} dark pixels)")
    expect(distinct_colours(img, 3) >= 4, f"{svg}: the chart is blank")


# --- the checks fail on broken pages --------------------------------------------------------------

def must_fail(what, fn):
    try:
        fn()
    except Failure as e:
        print(f"  self-check: {what}: caught ({str(e)[:120]})")
        return
    raise Failure(f"self-check: {what} went unnoticed")


def self_checks(good_page, report, svg, out):
    text = open(good_page, encoding="utf-8").read()
    no_filter = os.path.join(out, "broken-filter.html")
    open(no_filter, "w", encoding="utf-8").write(text.replace("tr.hidden=!ok;", "tr.hidden=false;", 1))
    must_fail("a filter that hides nothing", lambda: check_conform(no_filter, report))
    variants = {
        "a script error": text.replace("<script>", "<script>no_such_function();</script><script>", 1),
        "a script that never finishes": text.replace("root.dataset.txlabReady='1';", "", 1),
        "a fetch from the network": text.replace("<main>", "<main><img src=\"http://127.0.0.1:9/x.png\">", 1),
    }
    for what, page in variants.items():
        p = os.path.join(out, "broken-" + what.replace(" ", "-") + ".html")
        open(p, "w", encoding="utf-8").write(page)
        must_fail(what, lambda p=p: check_clean(p))
    svg_text = open(svg, encoding="utf-8").read()
    transparent = os.path.join(out, "broken-transparent.svg")
    open(transparent, "w", encoding="utf-8").write(
        svg_text.replace('<rect width="100%" height="100%" fill="#ffffff"/>', "", 1))
    must_fail("a transparent SVG", lambda: check_svg_png(transparent, transparent + ".png"))
    blank = os.path.join(out, "broken-blank.html")
    open(blank, "w", encoding="utf-8").write("<!DOCTYPE html><html><body></body></html>")
    def blank_page():
        screenshot(blank, blank + ".png")
        check_png(blank + ".png", "a blank page")
    must_fail("a blank page", blank_page)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    txlab, scenarios, out = sys.argv[1:]
    if not os.access(CHROMIUM, os.X_OK):
        print(f"html_browser: {CHROMIUM} is missing: run scripts/install-deps.sh (Debian package chromium)")
        return 1
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    def txlab_run(args, ok_codes=(0,)):
        p = subprocess.run([txlab, *args], capture_output=True, text=True, timeout=300)
        if p.returncode not in ok_codes:
            raise Failure(f"txlab {' '.join(args)} exited {p.returncode}: {p.stderr[-2000:]}")

    pages = {
        "run": (["run", f"{scenarios}/broker.yaml"], (0,), check_run),
        "timeline": (["run", f"{scenarios}/faults/key-rotation-under-load.yaml"], (0,), check_timeline),
        # The caller-in-act convention is NON-STRICT, a failure under --strict: rows to show.
        "conform": (["conform", "--scenario", f"{scenarios}/broker-caller-in-act.yaml", "--target",
                     "as-c2p", "--profile", "rfc8693", "--strict"], (1,), check_conform),
        "attack": (["attack", f"{scenarios}/broker.yaml"], (0,), check_attack),
        "load": (["load", f"{scenarios}/broker.yaml", "--duration", "3", "--svg",
                  os.path.join(out, "latency.svg")], (0,), check_load),
    }
    try:
        for name, (args, codes, check) in pages.items():
            page, report = os.path.join(out, name + ".html"), os.path.join(out, name + ".json")
            txlab_run(args + ["--html", page, "--json", report, "--quiet"], codes)
            check(page, json.load(open(report)))
            check_png(screenshot(page, os.path.join(out, name + ".png")), name)
            print(f"ok  {name}: {page} (screenshot {name}.png)")
        history = os.path.join(out, "history")
        for label in ("first-run", "second-run"):
            txlab_run(["load", f"{scenarios}/direct.yaml", "--duration", "1", "--rate", "50",
                       "--history", history, "--label", label, "--quiet"])
        lines = [json.loads(l) for l in open(os.path.join(history, "history.jsonl"))]
        check_history(os.path.join(history, "index.html"), lines)
        check_png(screenshot(os.path.join(history, "index.html"), os.path.join(out, "history.png")), "history")
        print(f"ok  history: {history}/index.html (screenshot history.png)")
        check_svg_png(os.path.join(out, "latency.svg"), os.path.join(out, "latency.png"))
        print(f"ok  latency.svg rendered opaque with axes: {out}/latency.png")
        self_checks(os.path.join(out, "conform.html"), json.load(open(os.path.join(out, "conform.json"))),
                    os.path.join(out, "latency.svg"), out)
    except (Failure, subprocess.TimeoutExpired) as e:
        print(f"FAIL {e}")
        return 1
    print("html_browser: every page passed in Chromium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
