"""The web chat and the staff page in headless Chromium: a customer asks for a refund, staff approve it on
their page, and the customer's chat shows the answer.

Chromium and its driver are Debian packages (``chromium``, ``chromium-driver``; ``.ci/run`` installs them): Selenium
is pointed at ``/usr/bin/chromedriver`` and ``/usr/bin/chromium`` explicitly, so nothing is ever downloaded. Locally
the test skips when they are missing; under ``CI=true`` that is a failure.
``SUPPORT_SERVICE_SCREENSHOTS=docs/images`` saves the screenshots there, for the docs.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services import in_ci

from .harness import ROOT, STAFF_PASSWORD, offline_model_server, support_service

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=900,720", "--force-device-scale-factor=1", "--hide-scrollbars",
)  # fmt: skip


def _browser_missing() -> str | None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]'"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    problem = _browser_missing()
    if problem:
        if in_ci():
            pytest.fail(f"headless Chromium unavailable under CI=true: {problem}", pytrace=False)
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to find CSP violations in the console
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_refund_asked_in_the_chat_and_approved_on_the_staff_page(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    from examples.support_service.store import SessionStore

    customer = f"browser-{uuid.uuid4().hex[:8]}"
    database = str(tmp_path / "support.db")
    with offline_model_server() as model_url, support_service(model_url, database, workers=1) as service:
        wait = WebDriverWait(browser, 20)

        def screenshot(name: str) -> None:
            browser.save_screenshot(str(tmp_path / name))
            target = os.environ.get("SUPPORT_SERVICE_SCREENSHOTS")
            if target:
                shutil.copyfile(tmp_path / name, ROOT / target / name)

        def ask(text: str) -> None:
            wait.until(ready.element_to_be_clickable((By.ID, "prompt"))).send_keys(text, Keys.ENTER)

        def assistant_says(text: str) -> None:
            """Wait for a finished answer bubble containing ``text`` (tool lines may contain it sooner)."""
            answers = (By.CSS_SELECTOR, ".msg.assistant:not(.streaming)")
            wait.until(lambda page: any(text in bubble.text for bubble in page.find_elements(*answers)))

        # The customer signs in (the demo's sign-in) and chats.
        browser.get(f"{service.url}/?customer={customer}")
        wait.until(ready.element_to_be_clickable((By.ID, "signin-button"))).click()
        wait.until(ready.text_to_be_present_in_element((By.ID, "who"), customer))
        ask("What's the status of my transaction T1001?")
        assistant_says("Paid")
        tools = browser.find_elements(By.CSS_SELECTOR, ".tool")
        assert "retrieve_payment_status" in tools[0].text and '"Paid"' in tools[0].text

        ask("Please refund transaction T1001.")
        card = wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".waiting")))
        assert "waiting for our team" in card.text and "refund_payment" in card.text and "T1001" in card.text
        assert not browser.find_elements(By.CSS_SELECTOR, ".waiting button")  # the customer cannot approve
        assert not browser.find_element(By.ID, "prompt").is_enabled()  # nothing else until our team decides
        browser.refresh()  # the paused run is stored: the page shows the conversation, still waiting
        wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".waiting")))
        users = [bubble.text for bubble in browser.find_elements(By.CSS_SELECTOR, ".msg.user")]
        assert users == ["What's the status of my transaction T1001?", "Please refund transaction T1001."]
        screenshot("support-service-waiting.png")
        chat = browser.current_window_handle

        # A staff member, in another window, signs in and approves it from the list.
        browser.switch_to.new_window("window")
        browser.get(f"{service.url}/staff")
        wait.until(ready.element_to_be_clickable((By.ID, "name"))).send_keys("Sam")
        browser.find_element(By.ID, "password").send_keys(STAFF_PASSWORD, Keys.ENTER)
        row = (By.CSS_SELECTOR, f'#waiting tr[data-customer="{customer}"]')
        approve = wait.until(ready.element_to_be_clickable((*row[:1], row[1] + " button.approve")))
        cells = [cell.text for cell in browser.find_element(*row).find_elements(By.TAG_NAME, "td")]
        assert cells[:3] == [customer, "refund_payment", '{"transaction_id": "T1001"}'] and cells[3], cells
        screenshot("support-service-staff.png")
        approve.click()
        decided = (By.CSS_SELECTOR, "#decided tbody tr")
        wait.until(lambda page: any(customer in r.text and "Sam" in r.text for r in page.find_elements(*decided)))
        assert "approved" in browser.find_element(*decided).text
        wait.until(lambda page: not page.find_elements(*row))  # no longer waiting
        assert not [entry for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]

        # The customer's chat updates by itself with the answer.
        browser.switch_to.window(chat)
        assistant_says("125.50 EUR refunded")
        wait.until(ready.element_to_be_clickable((By.ID, "prompt")))
        assert not browser.find_elements(By.CSS_SELECTOR, ".waiting")
        screenshot("support-service-chat.png")
        assert not [entry for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]

    store = SessionStore(database)
    store.open()
    try:
        (refund,) = store.refunds()
        (decision,) = store.decided()
    finally:
        store.close()
    assert (refund["customer_id"], refund["transaction_id"]) == (customer, "T1001")
    assert (decision["customer_id"], decision["decided_by"], decision["approved"]) == (customer, "Sam", True)
