"""7. Browser panel: ``scripts/reinforcement_learning/sb3/panel.py``'s :class:`BrowserApp` (viser server,
Newton's ``ViewerViser``, the 60 Hz loop thread) training at No rendering vs train.py's direct path
(``make_env`` + ``setup_training`` + ``run_learning``), same seed and budget, alternating rounds
(A B B A ...) after one untimed warm-up run; and
the loop's frames per second with 64 envs training in Full rendering while a headless Chromium shows
the page (every frame's body transforms go over its websocket).

The panel is driven as its buttons do: actions posted to the loop thread. Its run is timed from the
posted Start to the state Done seen by the loop, the direct run as in ``panel_path``. Ratio = panel
steps/s / direct steps/s.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from common import TASK, interleaved, line, md_table, median, paired_ratio, steps_per_s
from panel_path import direct

from isaaclab_trainer.ui.browser import CHROMIUM, CHROMIUM_HEADLESS_ARGS

NAME = "browser_panel"
NUM_ENVS = 64
SEED = 42
FPS_WINDOW_S = 10.0


def _panel():
    from isaaclab_trainer.ui.browser_app import BrowserApp

    log_root = tempfile.mkdtemp(prefix="bench_panel_")
    panel = BrowserApp(task=TASK, num_envs=NUM_ENVS, seed=SEED, log_root=log_root, port=0)
    panel.start()
    return panel


def _wait(panel, states: tuple[str, ...], timeout: float = 600.0) -> str:
    """Poll the loop's last drawn state (no session call from this thread) until it is one of ``states``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        last = panel.last_state
        if last is not None and last.state.value in states:
            return last.state.value
        if last is not None and last.status_is_error:
            raise RuntimeError(f"panel: {last.status_line}")
        time.sleep(0.005)
    raise TimeoutError(f"panel did not reach {states}")


def _build(panel) -> None:
    from isaaclab_trainer.ui.browser_app import BACKEND

    panel.post(lambda: panel.vm.on_build(TASK, NUM_ENVS, SEED, BACKEND))
    _wait(panel, ("BUILT",))


def panel_no_rendering(total: int) -> tuple[float, int]:
    panel = _panel()
    try:
        panel.post(lambda: panel.vm.on_render_mode("No rendering"))
        _build(panel)
        t = time.perf_counter()
        panel.post(lambda: panel.vm.on_start(total))
        _wait(panel, ("TRAINING",))
        if _wait(panel, ("DONE", "ERROR")) != "DONE":
            raise RuntimeError(f"panel run failed: {panel.last_state.status_line}")
        sec = time.perf_counter() - t
        done = int(panel.last_state.progress_text.split("/")[0].replace(",", ""))
    finally:
        panel.close()
    return sec, done


def full_rendering_fps(with_browser: bool) -> dict[str, float]:
    """Loop frames/s and 3-D frames/s over a window of training in Full rendering."""
    panel = _panel()
    pw = browser = None
    try:
        if with_browser:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_HEADLESS_ARGS))
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(panel.url)
            page.get_by_role("button", name="Build", exact=True).wait_for(timeout=60_000)
        _build(panel)
        panel.post(lambda: panel.vm.on_start(10_000_000))
        _wait(panel, ("TRAINING",))
        time.sleep(2.0)  # past the first rollout's start-up
        f0, s0, t0 = panel.frames, panel.scene_frames, time.perf_counter()
        time.sleep(FPS_WINDOW_S)
        dt = time.perf_counter() - t0
        return {"loop_fps": (panel.frames - f0) / dt, "scene_fps": (panel.scene_frames - s0) / dt}
    finally:
        panel.close()
        if browser is not None:
            browser.close()
        if pw is not None:
            pw.stop()


def run(quick: bool) -> dict[str, Any]:
    total = 16 * NUM_ENVS * (12 if quick else 60)
    repeats = 2 if quick else 5
    steps: dict[str, int] = {}
    panel_no_rendering(16 * NUM_ENVS)  # warm-up: first-use costs (viser, imports) count for neither side
    rates = interleaved(
        {
            "panel": steps_per_s("panel", lambda: panel_no_rendering(total), steps),
            "direct": steps_per_s("direct", lambda: direct(total), steps),
        },
        repeats,
        alternate=True,
    )
    ratio = paired_ratio(rates["panel"], rates["direct"])
    with_browser = Path(CHROMIUM).exists()
    fps = full_rendering_fps(with_browser)
    res = {
        "num_envs": NUM_ENVS,
        "timesteps_per_run": total,
        "timesteps_done": steps,
        "rounds": repeats,
        "panel_steps_per_s": median(rates["panel"]),
        "direct_steps_per_s": median(rates["direct"]),
        "panel_all": rates["panel"],
        "direct_all": rates["direct"],
        "ratio": ratio,
        "full_rendering_loop_fps": fps["loop_fps"],
        "full_rendering_scene_fps": fps["scene_fps"],
        "fps_with_browser": with_browser,
        "target": "ratio >= 0.95 and Full-rendering loop >= 30 frames/s",
        "met": ratio >= 0.95 and fps["loop_fps"] >= 30.0,
    }
    res["line"] = line(
        "7 browser panel",
        f"BrowserPanel No rendering {res['panel_steps_per_s']:,.0f} vs train.py path {res['direct_steps_per_s']:,.0f} "
        f"steps/s; Full rendering loop {fps['loop_fps']:.1f} frames/s, 3-D {fps['scene_fps']:.1f} frames/s "
        f"({'Chromium connected' if with_browser else 'no browser'}) (panel/direct)",
        ratio,
    )
    return res


def markdown(res: dict[str, Any]) -> str:
    a = md_table(
        ["path (64 envs, seed 42)", "env steps/s", "ratio"],
        [
            ["BrowserPanel (panel.py) loop, No rendering", res["panel_steps_per_s"], f"**{res['ratio']:.2f}**"],
            ["train.py path (make_env + setup_training + run_learning)", res["direct_steps_per_s"], "1.00"],
        ],
    )
    b = md_table(
        ["64 envs training, Full rendering", "loop frames/s", "3-D frames/s (transforms sent)", "browser"],
        [
            [
                "BrowserPanel loop",
                f"**{res['full_rendering_loop_fps']:.1f}**",
                f"{res['full_rendering_scene_fps']:.1f}",
                "headless Chromium connected" if res["fps_with_browser"] else "none",
            ]
        ],
    )
    return a + "\n\n" + b
