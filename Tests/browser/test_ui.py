#!/usr/bin/env python3
"""The chat page, the widget and the dashboard in headless Chromium, against a real Paliadin
and the mock upstream (`paliadin-mock-upstream`), as `scripts/browser-tests.sh` starts them.

    python Tests/browser/test_ui.py PALIADIN_BASE_URL DATABASE_PATH HOST_PAGE_PORT ARTIFACTS_DIR

The mock's behaviour is chosen by the message typed (see MockOpenAIUpstream). Each scenario
saves a screenshot of the page it ends on in ARTIFACTS_DIR (named FAILED-... when it failed).
Exits non-zero at the first failure. UI_SCENARIOS=name,name runs only those (names below).
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import sqlite3
import sys
import threading
import time
import urllib.request
import uuid

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

base, database, host_port, artifacts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
host_origin = f"http://127.0.0.1:{host_port}"


# ---------- the host page of the widget, on another origin ----------

HOST_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order 1234 - Example Shop</title></head>
<body><h1>Example Shop</h1><p>A host page that embeds Paliadin with one tag.</p>
<script src="{base}/paliadin/widget.js" async data-title="Shop help" data-context='{{"account": 42}}'></script>
</body></html>"""


# A host app that signs a session token for its signed-in user (PALIADIN_SESSION_KEY, shared
# with Paliadin by scripts/browser-tests.sh) and hands it to the widget.
SESSION_KEY = os.environ.get("PALIADIN_SESSION_KEY", "")
SIGNED_USER = os.environ.get("UI_SIGNED_USER", "")


def session_token(user, lifetime=600):
    def part(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(
        json.dumps({"sub": user, "exp": int(time.time()) + lifetime}).encode())
    signature = hmac.new(SESSION_KEY.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


class HostPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        page = HOST_PAGE
        if self.path.startswith("/signed.html"):
            page = HOST_PAGE.replace(" async ", f' async data-session-token="{session_token(SIGNED_USER)}" ')
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        # A strict policy, as a careful host app has: the widget must work under it.
        self.send_header("Content-Security-Policy",
                         f"default-src 'self'; script-src {base}; style-src 'self'; frame-src {base}; connect-src 'self'")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


host_server = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), HostPage)
threading.Thread(target=host_server.serve_forever, daemon=True).start()


# ---------- a TCP proxy in front of Paliadin that can cut the browser's connections ----------

class CuttingProxy:
    """Forwards 127.0.0.1:PORT to Paliadin. `cut()` drops every open connection, as a network
    loss does; with `refuse_streams` set, stream requests get a 502 (the stream cannot be
    re-attached) while the other requests pass."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = set()
        self.lock = threading.Lock()
        self.refuse_streams = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        first = client.recv(65536)
        if self.refuse_streams and first.startswith(b"GET /api/paliadin/stream/"):
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        with self.lock:
            self.sockets |= {client, upstream}
        upstream.sendall(first)
        threading.Thread(target=self.pump, args=(upstream, client), daemon=True).start()
        self.pump(client, upstream)

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            cut, self.sockets = self.sockets, set()
        for end in cut:
            try:
                end.shutdown(socket.SHUT_RDWR)
                end.close()
            except OSError:
                pass


proxy = CuttingProxy(int(base.rsplit(":", 1)[1]))
proxied = f"http://127.0.0.1:{proxy.port}"


# ---------- helpers ----------

options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=420,860"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
made_turns = []
turns_by_name = {}


def find(selector):
    return driver.find_element(By.CSS_SELECTOR, selector)


def answers():
    return driver.find_elements(By.CSS_SELECTOR, "[data-testid=message-assistant]")


def last_answer():
    return answers()[-1]


def answer_text():
    return last_answer().find_element(By.CSS_SELECTOR, "[data-testid=answer]").text


def wait_until(what, condition, seconds=20):
    deadline = time.time() + seconds
    last_error = None
    while time.time() < deadline:
        try:
            if condition():
                return
        except WebDriverException as error:  # the page is re-rendering
            last_error = error
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_error.msg})" if last_error else ""))


def ask(text):
    count = len(answers())
    box = find("[data-testid=input]")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait_until("the new turn's bubble", lambda: len(answers()) > count)
    wait_until("the turn id", lambda: last_answer().get_attribute("data-turn-id"))
    turn_id = last_answer().get_attribute("data-turn-id")
    made_turns.append(turn_id)
    return turn_id


def idle():
    return not find("[data-testid=stop]").is_enabled()


def api(path):
    with urllib.request.urlopen(base + path, timeout=10) as reply:  # dev mode: loopback is the dev user
        return json.load(reply)


def stored_row(turn_id):
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM turns WHERE id = ?", (turn_id,)).fetchone()


def expected_chunks(count):
    return " ".join(f"t{n}" for n in range(1, count + 1))


def fresh_chat_page(at=None):
    driver.switch_to.default_content()
    driver.get((at or base) + "/paliadin")
    wait_until("the chat page with its history loaded", lambda: find("[data-testid=send]").is_enabled())


scenarios = []


def scenario(name):
    def register(body):
        scenarios.append((name, lambda: run(body)))
        return body

    def run(body):
        try:
            body()
        except Exception:
            path = f"{artifacts}/FAILED-{name}.png"
            try:
                driver.switch_to.default_content()
                driver.save_screenshot(path)
                print(f"[ui] FAILED {name}; screenshot: {path}", file=sys.stderr)
            except WebDriverException:
                pass
            raise
        driver.save_screenshot(f"{artifacts}/{name}.png")
        print(f"[ui] ok: {name}")
    return register


# ---------- scenarios ----------

@scenario("chat-stream-markdown")
def stream_and_markdown():
    fresh_chat_page()
    driver.execute_script("localStorage.clear()")
    fresh_chat_page()
    ask("mock:answer=markdown delay=25ms")
    lengths = set()

    def finished():
        lengths.add(len(answer_text()))
        return idle()
    wait_until("the answer to finish", finished)
    assert len(lengths) > 3, f"the answer did not stream in: {sorted(lengths)}"
    answer = last_answer().find_element(By.CSS_SELECTOR, "[data-testid=answer]")
    assert answer.find_element(By.CSS_SELECTOR, "strong").text == "blue"
    assert len(answer.find_elements(By.CSS_SELECTOR, "ul li")) >= 3
    assert answer.find_element(By.CSS_SELECTOR, "pre code").text == 'let sea = "blue"'
    link = answer.find_element(By.CSS_SELECTOR, "a")
    assert link.get_attribute("href") == "https://example.org/atlas", link.get_attribute("href")
    assert answer.get_attribute("aria-live") == "polite" and answer.get_attribute("aria-busy") == "false"


@scenario("chat-thinking")
def thinking():
    fresh_chat_page()
    ask("mock:pings=2 delay=1500ms")  # the server sends `thinking` every second (PALIADIN_THINKING_INTERVAL)
    status = lambda: last_answer().find_element(By.CSS_SELECTOR, "[data-testid=turn-status]").text
    wait_until("a thinking state with elapsed seconds", lambda: re.fullmatch(r"thinking… [1-9]\d*s", status()), 10)
    wait_until("the answer after the silence", lambda: idle() and answer_text() == "pong", 15)
    assert "thinking" not in status(), status()


@scenario("chat-reload-mid-stream")
def reload_mid_stream():
    fresh_chat_page()
    turn_id = ask("mock:chunks=40 delay=80ms")
    wait_until("some text", lambda: len(answer_text()) > 10)
    driver.refresh()
    wait_until("the running turn to be re-attached", lambda: answers() and last_answer().get_attribute("data-turn-id") == turn_id)
    wait_until("the answer to finish after the reload", lambda: idle() and answer_text().strip() == expected_chunks(40), 30)
    assert answer_text().strip() == expected_chunks(40), answer_text()
    assert len(driver.find_elements(By.CSS_SELECTOR, f"[data-testid=message-assistant][data-turn-id='{turn_id}']")) == 1


@scenario("chat-new-conversation")
def new_conversation():
    fresh_chat_page()
    if not answers():
        ask("hello")
        wait_until("the answer", idle)
    before = driver.execute_script("return localStorage.getItem('paliadin.session')")
    find("[data-testid=new-conversation]").click()
    wait_until("an empty conversation", lambda: not answers() and find("[data-testid=send]").is_enabled())
    after = driver.execute_script("return localStorage.getItem('paliadin.session')")
    assert after and after != before, (before, after)
    ask("a fresh start")
    wait_until("the answer", lambda: idle() and answer_text() == "Hello from the mock.")
    driver.refresh()
    wait_until("the new session's history only", lambda: find("[data-testid=send]").is_enabled() and len(answers()) == 1)
    # Back to the session the other scenarios use.
    driver.execute_script("localStorage.setItem('paliadin.session', arguments[0])", before)


@scenario("chat-network-loss")
def network_loss():
    # The page is loaded through the proxy, so its stream runs through it too.
    fresh_chat_page(proxied)
    turn_id = ask("mock:chunks=60 delay=60ms")
    wait_until("some text", lambda: len(answer_text()) > 10)
    proxy.cut()
    wait_until("the reconnecting notice", lambda: "reconnecting" in last_answer().text, 5)
    wait_until("the answer to finish after the loss", lambda: idle() and answer_text().strip() == expected_chunks(60), 30)
    assert answer_text().strip() == expected_chunks(60), "text was lost or repeated across the loss"
    assert stored_row(turn_id)["reader_resumes"] >= 1, "the browser resumed with Last-Event-ID"


@scenario("chat-recover-when-stream-lost")
def recover_when_stream_lost():
    fresh_chat_page(proxied)
    turn_id = ask("mock:chunks=30 delay=100ms")
    wait_until("some text", lambda: len(answer_text()) > 5)
    proxy.refuse_streams = True
    try:
        proxy.cut()
        wait_until("the page to check on the answer", lambda: "checking on the answer" in last_answer().text, 10)
        wait_until("the recovered answer", lambda: idle() and answer_text().strip() == expected_chunks(30), 30)
    finally:
        proxy.refuse_streams = False
    assert stored_row(turn_id)["status"] == "completed"


@scenario("chat-stop")
def stop():
    fresh_chat_page()
    turn_id = ask("mock:chunks=400 delay=50ms")
    turns_by_name["stopped"] = turn_id
    wait_until("some text", lambda: len(answer_text()) > 10)
    find("[data-testid=stop]").click()
    wait_until("the turn to stop", idle)
    wait_until("the stopped notice", lambda: "Stopped" in last_answer().text)
    row = api(f"/api/paliadin/turn/{turn_id}")
    assert row["error_code"] == "cancelled", row
    assert row["response"] and len(row["response"]) < len(expected_chunks(400)), "the partial text is kept"


@scenario("chat-error-retry")
def error_and_retry():
    fresh_chat_page()
    ask(f"mock:flaky={uuid.uuid4()}")
    wait_until("the error", lambda: last_answer().find_elements(By.CSS_SELECTOR, "[data-testid=turn-error]"))
    error = last_answer().find_element(By.CSS_SELECTOR, "[data-testid=turn-error]")
    assert "503" in error.text, error.text
    assert error.get_attribute("data-code") == "upstream_error"
    failed = len(answers())
    last_answer().find_element(By.CSS_SELECTOR, "[data-testid=retry]").click()
    wait_until("the retried turn", lambda: len(answers()) == failed + 1)
    made_turns.append(last_answer().get_attribute("data-turn-id"))
    wait_until("the retried answer", lambda: idle() and answer_text() == "Hello from the mock.")


@scenario("chat-xss-as-text")
def xss():
    fresh_chat_page()
    ask("mock:answer=xss delay=10ms")
    wait_until("the answer to finish", idle)
    answer = last_answer().find_element(By.CSS_SELECTOR, "[data-testid=answer]")
    text = answer.text
    assert "<script>window.__paliadinXSS = 1</script>" in text, text
    assert "onerror=" in text and "<b>bold?</b>" in text, text
    for tag in ["script", "img", "b", "iframe"]:
        assert not answer.find_elements(By.CSS_SELECTOR, tag), f"a <{tag}> element was created"
    for link in answer.find_elements(By.CSS_SELECTOR, "a"):
        assert link.get_attribute("href").startswith(("http:", "https:", "mailto:")), link.get_attribute("href")
        link.click()
    assert driver.execute_script("return window.__paliadinXSS") is None, "a script in the answer ran"
    handlers = driver.execute_script(
        "return [...arguments[0].querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))",
        answer)
    assert not handlers, handlers


@scenario("widget-context")
def widget():
    driver.switch_to.default_content()
    driver.get(host_origin + "/host.html")
    wait_until("the widget", lambda: driver.execute_script("return !!document.querySelector('#paliadin-widget')"))
    violations = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not violations, violations
    launcher = driver.execute_script("return document.querySelector('#paliadin-widget').shadowRoot.querySelector('.launcher')")
    assert launcher.get_attribute("aria-label") == "Open Shop help assistant", launcher.get_attribute("aria-label")
    launcher.click()
    frame = driver.execute_script("return document.querySelector('#paliadin-widget').shadowRoot.querySelector('iframe')")
    driver.switch_to.frame(frame)
    wait_until("the chat in the drawer", lambda: find("[data-testid=send]").is_enabled())
    wait_until("the page context from the host page", lambda: find("body").get_attribute("data-context-received") == "true")

    first = ask("hello from the widget")
    wait_until("the answer", lambda: idle() and answer_text() == "Hello from the mock.")
    row = stored_row(first)
    assert row["page_origin"] == host_origin + "/host.html", row["page_origin"]
    context = json.loads(row["context_json"])
    assert context == {"origin": host_origin, "path": "/host.html", "title": "Order 1234 - Example Shop",
                       "data": {"account": 42}}, context

    driver.switch_to.default_content()
    accepted = driver.execute_script("return window.Paliadin.setContext({cart: 3, plan: 'pro'})")
    too_big = driver.execute_script("return window.Paliadin.setContext({blob: 'x'.repeat(9000)})")
    assert accepted is True and too_big is False
    driver.switch_to.frame(frame)
    second = ask("and again")
    wait_until("the second answer", lambda: idle() and answer_text() == "Hello from the mock.")
    context = json.loads(stored_row(second)["context_json"])
    assert context["data"] == {"cart": 3, "plan": "pro"}, context

    # A single-page app moves on without reloading: the next turn carries the new path and title.
    driver.switch_to.default_content()
    driver.execute_script("history.pushState({}, '', '/orders/77'); document.title = 'Order 77 - Example Shop'")
    driver.switch_to.frame(frame)
    third = ask("and now?")
    wait_until("the third answer", lambda: idle() and answer_text() == "Hello from the mock.")
    row = stored_row(third)
    context = json.loads(row["context_json"])
    assert row["page_origin"] == host_origin + "/orders/77", row["page_origin"]
    assert (context["path"], context["title"]) == ("/orders/77", "Order 77 - Example Shop"), context
    driver.switch_to.default_content()


@scenario("widget-signed-in")
def widget_signed_in():
    # The host app signs its user in through the widget: the turn is that user's, not the dev user's.
    assert SESSION_KEY and SIGNED_USER, "scripts/browser-tests.sh sets PALIADIN_SESSION_KEY and UI_SIGNED_USER"
    driver.switch_to.default_content()
    driver.get(host_origin + "/signed.html")
    wait_until("the widget", lambda: driver.execute_script("return !!document.querySelector('#paliadin-widget')"))
    driver.execute_script("document.querySelector('#paliadin-widget').shadowRoot.querySelector('.launcher').click()")
    frame = driver.execute_script("return document.querySelector('#paliadin-widget').shadowRoot.querySelector('iframe')")
    driver.switch_to.frame(frame)
    wait_until("the chat in the drawer", lambda: find("[data-testid=send]").is_enabled())
    assert "token=" not in driver.current_url, "the token left the address after sign-in"
    turn = ask("who am I?")
    wait_until("the answer", lambda: idle() and answer_text() == "Hello from the mock.")
    assert stored_row(turn)["user_id"] == SIGNED_USER, stored_row(turn)["user_id"]
    cookie = driver.get_cookie("paliadin_session")
    assert cookie and cookie["httpOnly"], cookie
    driver.switch_to.default_content()


@scenario("widget-origin-not-allowed")
def widget_not_allowed():
    # The same page served from an origin Paliadin was not told about (another port).
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostPage)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        driver.switch_to.default_content()
        driver.get(f"http://127.0.0.1:{other.server_address[1]}/host.html")
        wait_until("the widget", lambda: driver.execute_script("return !!document.querySelector('#paliadin-widget')"))
        driver.execute_script("document.querySelector('#paliadin-widget').shadowRoot.querySelector('.launcher').click()")
        notice = "return document.querySelector('#paliadin-widget').shadowRoot.querySelector('.notice')?.textContent"
        wait_until("the notice that the assistant is not available here", lambda: driver.execute_script(notice), 15)
        assert "not available" in driver.execute_script(notice)
    finally:
        other.shutdown()


@scenario("dashboard")
def dashboard():
    driver.switch_to.default_content()
    driver.get(base + "/admin/paliadin")
    wanted = [turn for turn in made_turns if turn]

    def listed():
        shown = {row.get_attribute("data-turn-id") for row in driver.find_elements(By.CSS_SELECTOR, "tr[data-turn-id]")}
        return all(turn in shown for turn in wanted)
    wait_until("the turns just made in the recent turns table", listed)
    for card in ["card-turns-today", "card-error-rate", "card-ttft", "card-running"]:
        assert re.search(r"\d", find(f"[data-testid={card}]").text), f"{card} shows no figure: {find(f'[data-testid={card}]').text!r}"
    for chart in ["chart-turns", "chart-errors", "chart-latency"]:
        assert find(f"[data-testid={chart}]").tag_name == "svg", chart
    stopped = turns_by_name.get("stopped") or wanted[-1]
    row = find(f"tr[data-turn-id='{stopped}']")
    driver.execute_script("arguments[0].scrollIntoView()", row)
    row.click()
    wait_until("the turn's detail", lambda: find("[data-testid=turn-detail]").get_attribute("data-turn-id") == stopped)
    events = find("[data-testid=detail-events]").find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(events) >= 3 and "meta" in events[0].text, [e.text for e in events[:2]]
    if "stopped" in turns_by_name:
        assert "mock:chunks=400" in find("[data-testid=detail-message]").text
        assert "error" in events[-1].text and "cancelled" in events[-1].text, events[-1].text


@scenario("chat-narrow-dark")
def narrow_and_dark():
    driver.set_window_size(360, 740)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    fresh_chat_page()
    if not answers():
        ask("mock:answer=markdown")
        wait_until("the answer", idle)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
    background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    channels = [int(part) for part in background[background.index("(") + 1:background.index(")")].split(",")[:3]]
    assert sum(channels) < 3 * 100, f"dark mode is not dark: {background}"


try:
    chosen = [name for name in os.environ.get("UI_SCENARIOS", "").split(",") if name]
    for name, run_scenario in scenarios:
        if not chosen or name in chosen:
            run_scenario()
    # The cut connections of the network-loss scenarios show as network errors: expected.
    severe = [entry for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE" and not entry["message"].startswith(proxied)
              and "frame-ancestors" not in entry["message"]]  # the refused frame of widget-origin-not-allowed
    assert not severe, severe
    print("[ui] all browser scenarios passed")
finally:
    driver.quit()
    host_server.shutdown()
