"""The web chat in headless Chromium: a conversation with a refund that a human approves on the page.

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

import httpx
import pytest

from tests.services import in_ci

from .harness import ROOT, offline_model_server, support_service

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
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_web_chat_streams_shows_tool_calls_and_asks_for_approval(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    customer = f"browser-{uuid.uuid4().hex[:8]}"
    database = str(tmp_path / "support.db")
    with offline_model_server() as model_url, support_service(model_url, database, workers=1) as service:
        wait = WebDriverWait(browser, 20)
        browser.get(f"{service.url}/?customer={customer}")

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

        ask("What's the status of my transaction T1001?")
        assistant_says("Paid")
        tools = browser.find_elements(By.CSS_SELECTOR, ".tool")
        assert "retrieve_payment_status" in tools[0].text and '"Paid"' in tools[0].text

        ask("Please refund transaction T1001.")
        approve = wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, ".approval button.approve")))
        card = browser.find_element(By.CSS_SELECTOR, ".approval")
        assert "refund_payment" in card.text and "T1001" in card.text
        assert not browser.find_element(By.ID, "prompt").is_enabled()  # nothing else until a human decides
        screenshot("support-service-approval.png")
        browser.refresh()  # the paused run is stored: the page shows the conversation and the prompt again
        approve = wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, ".approval button.approve")))
        users = [bubble.text for bubble in browser.find_elements(By.CSS_SELECTOR, ".msg.user")]
        assert users == ["What's the status of my transaction T1001?", "Please refund transaction T1001."]
        approve.click()
        assistant_says("125.50 EUR refunded")
        wait.until(ready.element_to_be_clickable((By.ID, "prompt")))

        screenshot("support-service-chat.png")

        stored = httpx.get(f"{service.url}/api/customers/{customer}/conversation").json()
    assert stored["pending"] == []
    assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == [
        "What's the status of my transaction T1001?",
        "Please refund transaction T1001.",
    ]
    refund = [m for m in stored["messages"] if m["role"] == "tool" and m["name"] == "refund_payment"]
    assert len(refund) == 1 and "125.50 EUR refunded" in refund[0]["content"]
