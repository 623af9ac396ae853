#!/usr/bin/env python3
"""Drives the chat page in headless Chromium; exits non-zero on the first failed check."""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

base = sys.argv[1]
options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=400,800"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)


def find(selector):
    return driver.find_element(By.CSS_SELECTOR, selector)


def bubbles():
    return driver.find_elements(By.CSS_SELECTOR, "[data-turn-id]")


def wait_until(what, condition, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ask(text):
    box = find("[data-testid=input]")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


try:
    driver.get(base + "/paliadin")
    # 1. Ask, and watch the answer grow while it streams.
    ask("Name three colours of the sea.")
    wait_until("the turn's bubbles", lambda: len(bubbles()) >= 2, 10)
    lengths = []
    def finished():
        lengths.append(len(bubbles()[-1].text))
        return not find("[data-testid=stop]").is_enabled() and lengths[-1] > 0
    wait_until("the answer to finish", finished)
    answer = bubbles()[-1].text
    assert len(answer) > 10, answer
    assert len(set(lengths)) > 2, f"the answer did not stream in: {sorted(set(lengths))}"
    print(f"[browser] answer streamed in {len(set(lengths))} steps: {answer[:80]!r}")

    # 2. Stop a long answer.
    ask("Write a long story about a lighthouse keeper, at least 400 words.")
    wait_until("text to arrive", lambda: len(bubbles()[-1].text) > 40, 60)
    find("[data-testid=stop]").click()
    wait_until("the turn to stop", lambda: not find("[data-testid=stop]").is_enabled(), 30)
    assert "Stopped" in bubbles()[-1].text, bubbles()[-1].text
    print("[browser] stop ended the turn: " + bubbles()[-1].text.splitlines()[-1][:60])

    # 3. Reload: the conversation comes back from the server.
    count = len(bubbles())
    driver.refresh()
    wait_until("history", lambda: len(bubbles()) == count, 15)
    print(f"[browser] after reload the page shows the same {count} bubbles")

    # 4. Nothing went wrong in the page.
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
    print("[browser] no errors in the console; chat page checks passed")
finally:
    driver.quit()
