"""Debian's Chromium driven by Playwright, headless and kept off the network.

Playwright's own browser download does not work here, so tests point it at /usr/bin/chromium
(installed by ``scripts/setup.sh dev``). The flags stop Chromium's background traffic, and the
host resolver rule makes every name except 127.0.0.1 unresolvable, so no page or component
can reach past this machine.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
OFFLINE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


@contextmanager
def local_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=OFFLINE_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
