"""The browser panel served from inside one real Kit process (run by tests/test_kit_real_browser.py).

viser (with the packages it imports that Isaac Sim does not ship) goes on Kit's Python path, as a user installs
it into Isaac Sim's Python; ``browser_port`` is set to 0 and the extension disabled and enabled again through
Kit's extension manager, so its ``on_startup`` serves the panel. The URL goes to the test through a hand-off
folder; Kit's update loop then runs at ~60 Hz while the test clicks the page in Chromium, until the test
writes ``done``. Disabling the extension at the end must leave nothing behind (the server's thread included).
"""

from __future__ import annotations

import os
import socket
import sys
import time

import carb.settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import assert_nothing_left, disable, enable, snapshot  # noqa: E402

HANDOFF_SETTING = "/isaaclab_trainer_test/browser_handoff"
PACKAGES_SETTING = "/isaaclab_trainer_test/browser_packages"
BROWSER_PORT = "/exts/isaaclab_trainer/browser_port"
FPS = 60.0
MAX_SECONDS = 900.0


def scenario(kit) -> None:
    res, settings = kit.result, carb.settings.get_settings()
    handoff = settings.get(HANDOFF_SETTING)
    sys.path.append(settings.get(PACKAGES_SETTING))  # after Kit's own: nothing Isaac Sim ships is shadowed
    log_root = settings.get("/exts/isaaclab_trainer/log_root")
    before = snapshot(kit)

    # browser_port is read by on_startup: set it, then disable and enable as a user applying the setting would
    settings.set(BROWSER_PORT, 0)
    disable(kit)
    ext = enable(kit)
    assert ext.browser is not None, "browser_port = 0 must serve the browser panel"
    url_file = os.path.join(handoff, "url")
    with open(url_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(ext.browser.url)
    os.replace(url_file + ".tmp", url_file)

    # Kit's update loop, paced like Isaac Sim's run loop, until the test is done clicking
    viewport = kit.standins.viewport()
    seen: set[tuple[str, bool]] = set()
    frames, states = 0, []
    start = next_frame = time.perf_counter()
    while not os.path.exists(os.path.join(handoff, "done")):
        assert time.perf_counter() - start < MAX_SECONDS, "the browser test did not finish"
        kit.update()
        frames += 1
        session = ext.view_model.session
        if session is not None:
            status = session.status
            seen.add((status.render_mode.name, bool(viewport.updates_enabled)))
            if not states or states[-1] != status.state.value:
                states.append(status.state.value)
        next_frame += 1.0 / FPS
        time.sleep(max(0.0, next_frame - time.perf_counter()))
    res["frames"] = frames
    res["extension_frames"] = ext._frame
    res["render_modes"] = sorted(seen)
    res["states"] = states

    # disable: the server stops, nothing is left behind
    port = ext.browser.server.get_port()
    del ext, session
    disable(kit)
    res["leftovers"] = assert_nothing_left(kit, log_root, before["threads"])
    with socket.socket() as probe:
        res["port_open_after_disable"] = probe.connect_ex(("127.0.0.1", port)) == 0
