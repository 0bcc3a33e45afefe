"""The browser panel's page as a user sees it, in Debian's Chromium driven by Playwright: shared by the
tests of panel.py's panel and of the panel served from inside Kit."""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from viser_wire import sent_widget_value

from isaaclab_trainer.ui import browser as browser_ui

CHROMIUM = Path(browser_ui.CHROMIUM)
CHROMIUM_ARGS = list(browser_ui.CHROMIUM_HEADLESS_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's 'chromium' (./isaaclab.sh -i does, run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


#: how long an input's update may take to leave the page: viser's page sends every widget's update through one sender
#: that keeps only the latest message within 50 ms (viser/client/src/ControlPanel/Generated.tsx,
#: useThrottledMessageSender(50)), so an input or a click right after an input can replace its update while it waits;
#: generous for a loaded machine, where the page's timers run late
SENT_TIMEOUT_MS = 30_000

_sockets: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # page -> its viser websocket


def open_page(browser: Any, url: str, watcher: Any = None) -> Any:
    """A new tab on ``url`` once the panel is drawn; ``watcher.on_frame`` gets every websocket frame it receives."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})

    def on_websocket(ws: Any) -> None:
        _sockets[page] = ws
        if watcher is not None:
            ws.on("framereceived", watcher.on_frame)

    page.on("websocket", on_websocket)
    page.goto(url)
    page.get_by_role("button", name="Build", exact=True).wait_for(timeout=30_000)
    return page


def field(page, label: str):
    """The input of the panel row labelled ``label``."""
    return page.locator(
        f'xpath=//label[normalize-space(.)="{label}"]/ancestor::div[contains(@class,"mantine-Flex-root")][1]//input'
    ).first


def click(page, name: str, nth: int = 0) -> None:
    page.get_by_role("button", name=name, exact=True).nth(nth).click()


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the dropdown ``label``; returns once the page has sent it."""
    if field(page, label).input_value() == option:
        return  # already shown: picking it again sends nothing (a Mantine Select ignores it)

    def pick() -> None:
        field(page, label).click()
        page.get_by_role("option", name=option, exact=True).click()

    _until_sent(page, label, option, pick)


def type_in(page, label: str, text: str) -> None:
    """Fill the field ``label`` with ``text``; returns once the page has sent it, so that an input or a click right
    after it cannot replace its update."""
    if field(page, label).input_value() == text:
        return  # already shown: React sends no change
    _until_sent(page, label, text, lambda: field(page, label).fill(text))


def _until_sent(page, label: str, text: str, act: Callable[[], None]) -> None:
    """Run the input ``act`` and wait until a frame the page sends carries ``text`` as a widget's new value (a text
    field and a dropdown send the string, a number field the number)."""
    ws = _sockets.get(page)
    if ws is None:
        raise AssertionError(f"no viser websocket seen for this page (open it with open_page) to send {label!r}")

    def carries(payload: bytes | str) -> bool:
        is_update, value = sent_widget_value(payload)
        if not is_update or isinstance(value, bool):
            return False
        return value == text or (isinstance(value, int | float) and _number(text) == value)

    try:
        with ws.expect_event("framesent", predicate=carries, timeout=SENT_TIMEOUT_MS):
            act()
    except PlaywrightError as e:
        raise AssertionError(
            f"the page sent no update of {label!r} to {text!r} within {SENT_TIMEOUT_MS / 1000:.0f} s: {e.message}"
        ) from None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def status_line(page) -> str:
    return page.locator("#isaaclab-status").inner_text()


def wait_until(cond: Callable[[], bool], timeout: float, what: str, page=None) -> None:
    """Poll ``cond``; with a ``page``, wait through Playwright, which delivers the page's websocket frames
    (to a watcher) only while it runs."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)
    seen = f" (page: state {state(page)!r}, progress {timesteps(page)}, status {status_line(page)!r})" if page else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{seen}")


def count(text: str) -> int:
    """``"12,288 / 50,176"`` -> 12288."""
    match = re.match(r"[\d,]+", text.strip())
    return int(match.group(0).replace(",", "")) if match else 0


def timesteps(page) -> int:
    return count(field(page, "Progress").input_value())


def state(page) -> str:
    return field(page, "State").input_value()
