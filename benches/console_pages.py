"""How long the console's pages take to load in a browser (Debian's chromium, headless, driven
by Playwright): navigation start to the load event, for each page, over a large history.

Run `cairn bench console --events N --dir DIR` first (it builds the history and sets the root
password), then:

    .venv/bin/python benches/console_pages.py --cairn target/release/cairn --dir DIR [--runs 10]

Prints one JSON line per page: p50 and max of the load event, in ms.
"""

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--password", default="Bench-Passw0rd!")
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    port = free_port()
    server = subprocess.Popen([a.cairn, "serve", "--data-dir", a.dir, "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        account = subprocess.run([a.cairn, "accounts", "list", "--data-dir", a.dir], capture_output=True,
                                 text=True, check=True).stdout.split()[0]
        pages = {
            "sign-in": "/console/signin",
            "dashboard": "/console/cloudtrail",
            "event history": "/console/cloudtrail/events",
            "event history, EventName": "/console/cloudtrail/events?attr=EventName&value=Operation07",
            "event history, Username + ReadOnly": "/console/cloudtrail/events?attr=Username&value=user031&attr=ReadOnly&value=true",
            "trails": "/console/cloudtrail/trails",
            "create trail": "/console/cloudtrail/create-trail",
            "S3 buckets": "/console/s3",
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = browser.new_context().new_page()
            page.goto(base + "/console/signin")
            page.fill("#account", account)
            page.fill("#password", a.password)
            page.click("button[type=submit]")
            assert page.url.endswith("/console/cloudtrail"), page.url
            for label, path in pages.items():
                if label == "sign-in":
                    continue
                times = []
                for _ in range(a.runs + 1):
                    page.goto(base + path)
                    times.append(page.evaluate(
                        "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"))
                times = times[1:]  # the first visit fills the browser's cache of the stylesheet and script
                print(json.dumps({"bench": "console-pages", "page": label, "runs": len(times),
                                  "load_p50_ms": round(statistics.median(times), 1), "load_max_ms": round(max(times), 1)}))
                sys.stdout.flush()
            ctx = browser.new_context()
            page = ctx.new_page()
            times = []
            for _ in range(a.runs):
                page.goto(base + "/console/signin")
                times.append(page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"))
            print(json.dumps({"bench": "console-pages", "page": "sign-in", "runs": len(times),
                              "load_p50_ms": round(statistics.median(times), 1), "load_max_ms": round(max(times), 1)}))
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
