#!/usr/bin/env python3
"""markdown.js in headless Chromium: structure, XSS, streaming prefixes, speed and scaling, layout.

    python Tests/browser/test_markdown.py        (from the repo root; needs only selenium)

Serves the repository root on a free 127.0.0.1 port, opens Tests/browser/markdown-cases.html
(which enforces the chat pages' Content-Security-Policy) and runs the groups defined in
markdown-cases.js. Prints one line per passed group; exits non-zero at the first failure.
Environment: CHROMIUM (default /usr/bin/chromium), CHROMEDRIVER (default /usr/bin/chromedriver),
MD_SCREENSHOT=path.png saves a screenshot of the 360 px preview bubble.
"""
import functools
import http.server
import os
import re
import sys
import threading
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAGE = "Tests/browser/markdown-cases.html"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/favicon.ico":  # avoid a 404 in the console log
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


def say(line):
    print(line, flush=True)


def fail(group, message):
    print(f"FAIL {group}: {message}", file=sys.stderr)
    sys.exit(1)


def run_group(driver, name):
    result = driver.execute_script(f"return window.MDTest.{name}();")
    if not result["ok"]:
        shown = "\n  ".join(result["failures"][:10])
        more = len(result["failures"]) - 10
        fail(name, f"{len(result['failures'])} failure(s)\n  {shown}" + (f"\n  … and {more} more" if more > 0 else ""))
    return result["info"]


def main():
    started = time.monotonic()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=ROOT))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{PAGE}"

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    # --expose-gc: the speed checks collect garbage before each timed render, so a collection
    # the previous render left due does not land in the next one's time.
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=800,900", "--js-flags=--expose-gc"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                              options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(120)  # the speed group's scaling check renders inputs of up to ~2 MB
    try:
        driver.get(url)
        deadline = time.monotonic() + 10
        while not driver.execute_script("return !!(window.MDTest && window.MDTest.ready());"):
            if time.monotonic() > deadline:
                fail("load", f"markdown.js or markdown-cases.js did not load at {url}")
            time.sleep(0.05)

        say(f"ok  structure: {run_group(driver, 'structure')}")

        # The gate for XSS is the DOM audit inside the xss group (auditDom in
        # markdown-cases.js: no on* or other unlisted attribute, no script/img/iframe/…
        # element, only http/https/mailto hrefs), plus the href check below. The page
        # runs under `script-src 'self'`, so an injected handler or javascript: URL
        # would be blocked by CSP and could never set window.__xss: that check is a
        # backstop only (such a block would also show up in the csp group).
        info = run_group(driver, "xss")
        # Click every link that was rendered (safe ones are cancelled by the page).
        links = driver.find_elements(By.CSS_SELECTOR, "#xss a")
        for link in links:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
            link.click()
        time.sleep(0.3)  # let any async handler (onerror, onload) fire
        clicked = driver.execute_script("return window.__clicked;")
        if len(clicked) != len(links):
            fail("xss", f"clicked {len(links)} links but the page saw {len(clicked)}: {clicked}")
        unsafe = [href for href in clicked if not re.match(r"(https?://|mailto:)", href or "")]
        if unsafe:
            fail("xss", f"rendered link(s) with an unsafe href: {unsafe}")
        xss = driver.execute_script("return typeof window.__xss === 'undefined' ? null : String(window.__xss);")
        if xss is not None:
            fail("xss", f"a payload ran: window.__xss = {xss}")
        if len(driver.window_handles) != 1:
            fail("xss", "a click opened another window")
        say(f"ok  xss: {info}; clicked {len(links)} safe link(s)")

        say(f"ok  streaming: {run_group(driver, 'streaming')}")
        say(f"ok  fuzz: {run_group(driver, 'fuzz')}")

        speed = run_group(driver, "speed")
        figures, scaling = speed["figures"], speed["scaling"]
        worst = max(figures, key=lambda f: f[2])
        say(f"ok  speed: {len(figures)} inputs, each < 200 ms (worst: {worst[0]}, {worst[2]} ms)")
        for name, size, ms in figures:
            say(f"      {ms:8.2f} ms  {size:>7} chars  {name}")
        steepest = max(scaling, key=lambda r: r[5] if r[5] is not None else float("inf"))
        say(f"ok  scaling: {len(scaling)} generators, time at ~4n / time at n <= 1.5 x size ratio "
            f"(steepest: {steepest[0]}, x{steepest[5]})")
        for name, n1, t1, n4, t4, ratio in scaling:
            say(f"      {t1:8.2f} ms  {n1:>7} chars -> {t4:8.2f} ms  {n4:>7} chars  x{ratio:<5}  {name}")

        say(f"ok  layout: {run_group(driver, 'layout')}")
        if os.environ.get("MD_SCREENSHOT"):
            driver.find_element(By.CSS_SELECTOR, ".preview").screenshot(os.environ["MD_SCREENSHOT"])

        say(f"ok  csp: {run_group(driver, 'csp')}")
        severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        if severe:
            fail("console", "; ".join(entry.get("message", "") for entry in severe))
        say("ok  console: no SEVERE entries")
    finally:
        driver.quit()
        server.shutdown()
    print(f"all markdown checks passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
