"""What the browser tests share: Debian's Chromium through Selenium (headless, Chinese,
skipped without it — failed in CI, which installs it), and the workplace served by uvicorn
on a free local port from an ``App`` in the test's own process."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import wait_for

WAIT = 60  # seconds: a page on a loaded two-core machine


@contextmanager
def chromium(*flags: str, mobile: dict[str, Any] | None = None) -> Iterator[Any]:
    """A headless Chromium with ``flags`` (a window size...), or a phone's (``mobile``:
    Chrome's ``mobileEmulation``); quit afterwards."""
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver_path):
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromium-driver are required in CI (.ci/run installs "
                        "them)")
        pytest.skip("chromium and chromium-driver are not installed (apt-get install -y "
                    "chromium chromium-driver fonts-wqy-microhei)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN",
                 *flags):
        options.add_argument(flag)
    if mobile is not None:
        options.add_experimental_option("mobileEmulation", mobile)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any, port: int | None = None, what: str = "the workplace") -> Iterator[str]:
    """``app``'s workplace (with runs recorded, not started) over HTTP; its address."""
    import uvicorn

    from tests.integration.test_web import RecordingRuns
    from web.main import create_app

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(app, RecordingRuns()), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), WAIT, f"{what} to listen")
    assert server.started, f"{what} did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
