"""The browser panel served from inside a real Kit 110.4 while it trains, clicked through in Chromium.

Kit runs the extension with the stand-ins of ``tests/kit_harness.py`` (Python 3.12 only; the 3.11 leg skips
with the reason) and ``tests/kit_scenarios/browser_panel.py``, which serves the panel (``browser_port`` = 0)
and keeps Kit's update loop running while this test clicks: Build -> Start -> No rendering (training goes on) ->
Stop (``model.zip``) -> Use newest -> Load & Play. Every click runs at one of Kit's update events; the session is
the extension's one view-model's, the same the omni.ui window shows.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from browser_page import browser, choose, click, count, field, open_page, state, timesteps, type_in, wait_until
from kit_harness import KIT_VENV, _mark, _pinned, _pip, _stamp, run_kit

__all__ = ["browser"]  # the Chromium fixture
SCENARIO = Path(__file__).resolve().parent / "kit_scenarios" / "browser_panel.py"
#: what viser imports beyond what Isaac Sim's Python and the extension's [python.pipapi] folder hold
BROWSER_PACKAGES = ("viser", "msgspec", "websockets", "zstandard")
NUM_ENVS = 16


def ensure_browser_packages(venv: Path = KIT_VENV) -> Path:
    """viser and the packages it imports that Kit's Python lacks, in a folder of their own (made once), at the
    versions of the interpreter running the tests, as a user installs them into Isaac Sim's Python."""
    folder = venv / "browser"
    pins = _pinned(BROWSER_PACKAGES)
    marker, done = _stamp(folder, pins)
    if not done:
        folder.mkdir(parents=True, exist_ok=True)
        _pip(venv / "bin" / "python", "install", f"--target={folder}", "--upgrade", "--no-deps", *pins)
        _mark(marker, pins)
    return folder


def test_browser_panel_click_through_in_real_kit(kit_python: Path, browser: Any, tmp_path: Path) -> None:
    packages = ensure_browser_packages(kit_python.parents[1])
    handoff = tmp_path / "handoff"
    handoff.mkdir()
    settings = {
        "/isaaclab_trainer_test/browser_handoff": str(handoff),
        "/isaaclab_trainer_test/browser_packages": str(packages),
    }
    outcome: dict[str, Any] = {}
    kit = threading.Thread(
        target=lambda: outcome.setdefault("run", run_kit(kit_python, SCENARIO, tmp_path / "kit", settings=settings)),
        name="real-kit",
    )
    kit.start()
    try:
        url_file = handoff / "url"
        wait_until(lambda: url_file.is_file() or not kit.is_alive(), 600, "Kit to serve the browser panel")
        assert url_file.is_file(), "Kit ended before serving the panel"
        url = url_file.read_text(encoding="utf-8")
        page = open_page(browser, url)

        type_in(page, "Environments", str(NUM_ENVS))
        click(page, "Build")
        wait_until(lambda: state(page) == "Built", 120, "the envs to be built", page)

        type_in(page, "Total timesteps", "10000000")
        click(page, "Start")
        wait_until(lambda: state(page) == "Training", 60, "training to start", page)
        wait_until(lambda: timesteps(page) > 0, 120, "timesteps to grow", page)

        choose(page, "Rendering Mode", "No rendering")
        before = timesteps(page)
        wait_until(lambda: timesteps(page) > before + 10 * NUM_ENVS, 120, "training to go on without rendering", page)
        assert state(page) == "Training"

        click(page, "Stop")  # the Training section's
        wait_until(lambda: state(page) == "Done", 120, "Stop to finish", page)
        model = Path(field(page, "Run folder").input_value()) / "model.zip"
        assert model.is_file(), f"Stop must write {model}"
        assert count(field(page, "Progress").input_value()) < 10_000_000

        click(page, "Use newest")
        wait_until(lambda: field(page, "Checkpoint").input_value() == str(model), 30, "the newest checkpoint", page)
        click(page, "Load & Play")
        wait_until(lambda: state(page) == "Playing policy", 60, "the checkpoint to play", page)
        # the state label and the dropdown are separate widget updates: the dropdown may reach the page a frame later
        wait_until(lambda: field(page, "Rendering Mode").input_value() == "Full rendering", 10, "Full rendering", page)
        click(page, "Stop playing")
        wait_until(lambda: state(page) == "Built", 30, "playing to stop", page)
        page.close()
    finally:
        (handoff / "done").touch()
        kit.join(timeout=600)
    run = outcome["run"]
    run.check()
    res = run.scenario
    assert res["extension_frames"] >= res["frames"] > 0
    assert res["states"][:3] == ["BUILT", "TRAINING", "DONE"] and "PLAYING" in res["states"], res["states"]
    # No rendering chosen in the browser reached Kit's viewport; Load & Play turned it back on
    assert ["NO_RENDERING", False] in res["render_modes"] and ["FULL_RENDERING", True] in res["render_modes"]
    assert not any(res["leftovers"].values()), res["leftovers"]
    assert res["port_open_after_disable"] is False
