"""The browser panel as a user clicks it, in a real Chromium (Debian's ``chromium``, driven by Playwright).

What the 3-D view shows is read from the page's own websocket: every frame viser sends is decoded
(viser's wire format: zstd-compressed msgpack + raw buffers) and the batched-mesh transform updates
Newton's ``ViewerViser`` sends for the bodies are counted and compared.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import numpy as np
import pytest
import zstandard

from isaaclab_trainer.session.session import TrainingSession
from isaaclab_trainer.ui import browser as browser_ui
from isaaclab_trainer.ui.browser import BrowserPanel, LoopBoundSession

CHROMIUM = Path(browser_ui.CHROMIUM)
CHROMIUM_ARGS = list(browser_ui.CHROMIUM_HEADLESS_ARGS)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TRAIN = Path(__file__).resolve().parents[1] / "scripts" / "reinforcement_learning" / "sb3" / "train.py"
PANEL = Path(__file__).resolve().parents[1] / "scripts" / "reinforcement_learning" / "sb3" / "panel.py"


# ----------------------------------------------------------------------------- the page's websocket


def _align8(n: int) -> int:
    return n + (8 - n % 8) % 8


def decode_frame(payload: bytes) -> list[tuple[dict, list[bytes]]]:
    """Viser's websocket frame -> [(message dict, binary buffers of the frame)]."""
    inner_len = int.from_bytes(payload[:8], "little")
    compressed_len = int.from_bytes(payload[8:16], "little")
    inner = zstandard.ZstdDecompressor().decompress(payload[16 : 16 + compressed_len], max_output_size=inner_len)
    meta = msgspec.msgpack.decode(inner)
    buffers, offset = [], 16 + compressed_len
    for length in meta["binaryBufferLengths"]:
        offset = _align8(offset)
        buffers.append(payload[offset : offset + length])
        offset += length
    return [(message, buffers) for message in meta["messages"]]


class SceneWatcher:
    """Collects the body transforms (batched mesh positions) the page receives, with their arrival time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.updates: list[tuple[float, str, np.ndarray]] = []

    def on_frame(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        now = time.monotonic()
        for message, buffers in decode_frame(payload):
            if message.get("type") != "SceneNodeUpdateMessage":
                continue
            positions = message["updates"].get("batched_positions")
            if isinstance(positions, dict) and "__binary_index" in positions:
                data = np.frombuffer(buffers[positions["__binary_index"]], dtype=np.float32).reshape(-1, 3)
                with self.lock:
                    self.updates.append((now, message["name"], data.copy()))

    def since(self, t: float) -> list[tuple[float, str, np.ndarray]]:
        with self.lock:
            return [u for u in self.updates if u[0] >= t]

    def moving(self, t: float) -> bool:
        """True when some body batch received different positions after ``t``."""
        by_name: dict[str, list[np.ndarray]] = {}
        for _, name, data in self.since(t):
            by_name.setdefault(name, []).append(data)
        return any(any(not np.array_equal(a, b) for a, b in zip(v, v[1:], strict=False)) for v in by_name.values())


# ----------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def panel(tmp_path: Path) -> Iterator[BrowserPanel]:
    p = BrowserPanel(num_envs=16, seed=42, log_root=str(tmp_path / "logs"), port=0)
    p.start()
    yield p
    p.close(timeout=60)


def open_page(browser, url: str, watcher: SceneWatcher | None = None):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    if watcher is not None:
        page.on("websocket", lambda ws: ws.on("framereceived", watcher.on_frame))
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
    field(page, label).click()
    page.get_by_role("option", name=option, exact=True).click()


def status_line(page) -> str:
    return page.locator("#isaaclab-status").inner_text()


def wait_until(cond: Callable[[], bool], timeout: float, what: str, page=None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
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


def steps_per_drawn_frame(page, panel: BrowserPanel, seconds: float = 3.0) -> float:
    """Env steps (all envs, as the page shows them) per frame whose transforms were sent, over ``seconds``."""
    frames0, steps0 = panel.scene_frames, timesteps(page)
    time.sleep(seconds)
    return (timesteps(page) - steps0) / max(1, panel.scene_frames - frames0)


# ----------------------------------------------------------------------------- tests


def test_train_switch_modes_stop_and_play(browser, panel: BrowserPanel) -> None:
    """Build 16 envs, Start, Partial and No rendering, Pause, Resume, Stop (model.zip), Load & Play, Export, as a
    user clicks."""
    watcher = SceneWatcher()
    page = open_page(browser, panel.url, watcher)

    field(page, "Environments").fill("16")
    click(page, "Build")
    wait_until(lambda: state(page) == "Built", 60, "the envs to be built", page)
    assert status_line(page) == "built 16 envs"

    field(page, "Total timesteps").fill("60000")
    t0 = time.monotonic()
    click(page, "Start")
    wait_until(lambda: state(page) == "Training", 30, "training to start", page)
    wait_until(lambda: timesteps(page) >= 512, 60, "timesteps to grow", page)
    first = timesteps(page)
    wait_until(lambda: timesteps(page) > first, 30, "timesteps to keep growing", page)
    assert field(page, "Env steps / s").input_value().endswith("steps/s")
    wait_until(lambda: watcher.moving(t0), 30, "cart/pole transforms to move in Full rendering", page)

    # a second tab sees the same session; closing it stops nothing
    other = open_page(browser, panel.url)
    wait_until(lambda: state(other) == "Training", 10, "the second tab to show the session")
    other.close()

    # Partial rendering: the 3-D view still moves, with several env steps per drawn frame (Full: one)
    full = steps_per_drawn_frame(page, panel)
    choose(page, "Rendering Mode", "Partial rendering")
    time.sleep(0.5)  # applied on the loop's next frame
    partial_from = time.monotonic()
    partial = steps_per_drawn_frame(page, panel)
    wait_until(lambda: watcher.moving(partial_from), 30, "cart/pole transforms to move in Partial rendering", page)
    assert partial > 1.5 * full, f"env steps per drawn frame: Partial {partial:.1f}, Full {full:.1f}"

    choose(page, "Rendering Mode", "No rendering")
    time.sleep(0.5)  # the switch is applied on the loop's next frame; let frames already on the wire arrive
    quiet_from, before = time.monotonic(), timesteps(page)
    wait_until(lambda: field(page, "Mean return").input_value() != "-", 60, "a mean return", page)
    wait_until(lambda: page.locator(".uplot").count() == 1, 30, "the live plot of the mean return", page)
    wait_until(lambda: timesteps(page) > before + 1000, 30, "training to go on without rendering", page)
    assert watcher.since(quiet_from) == [], "No rendering must send no transforms"

    click(page, "Pause")
    wait_until(lambda: state(page) == "Paused", 10, "Paused", page)
    time.sleep(0.5)
    frozen = timesteps(page)
    time.sleep(1.5)
    assert timesteps(page) == frozen, "Pause must freeze the timestep counter"

    click(page, "Resume")
    wait_until(lambda: state(page) == "Training", 10, "training to resume", page)
    wait_until(lambda: timesteps(page) > frozen, 30, "timesteps to grow after Resume", page)

    click(page, "Stop")  # the Training section's
    wait_until(lambda: state(page) == "Done", 60, "Stop to finish", page)
    model = Path(field(page, "Run folder").input_value()) / "model.zip"
    assert model.is_file(), f"Stop must write {model}"
    assert count(field(page, "Progress").input_value()) < 60000  # stopped, not finished

    field(page, "Checkpoint").fill(str(model))
    play_from = time.monotonic()
    click(page, "Load & Play")
    wait_until(lambda: state(page) == "Playing policy", 30, "the checkpoint to play", page)
    assert field(page, "Rendering Mode").input_value() == "Full rendering"
    wait_until(lambda: watcher.moving(play_from), 30, "the played policy to move the cart/pole transforms", page)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_panel.png"))
    click(page, "Stop playing")
    wait_until(lambda: state(page) == "Built", 10, "playing to stop", page)

    click(page, "Export")  # the Checkpoints section's: the path field's model.zip, ONNX + TorchScript
    exported = model.parent / "exported"
    wait_until(lambda: status_line(page).startswith("Exported"), 120, "the export to finish", page)
    assert status_line(page) == f"Exported policy.onnx, policy.pt, policy.json to {exported}"
    assert all((exported / name).is_file() for name in ("policy.onnx", "policy.pt", "policy.json"))
    page.close()

    # every session call came from the loop thread, none from viser's
    assert panel.sessions and panel.loop_thread_id is not None
    for session in panel.sessions:
        assert session.caller_threads == {panel.loop_thread_id}


def test_panel_script_bad_fields_and_ctrl_c(browser, tmp_path: Path) -> None:
    """panel.py as a user runs it: one line with the URL; a bad field shows one line and builds
    nothing; Ctrl+C during training saves model.zip."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    args = [sys.executable, str(PANEL), "--num_envs", "4", "--port", "0", "--log_root", str(tmp_path / "logs")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = next(line for line in iter(proc.stdout.readline, "") if "http://" in line)  # viser's box is hidden
        assert first.startswith("[INFO] Isaac Lab panel at http://127.0.0.1:"), first
        page = open_page(browser, first.split(" at ")[1].split()[0])

        field(page, "Environments").fill("0")
        click(page, "Build")
        wait_until(lambda: "number of environments" in status_line(page), 10, "the error line", page)
        assert status_line(page) == "number of environments must be an integer >= 1, got 0"
        assert state(page) == "Idle"

        field(page, "Environments").fill("4")
        click(page, "Build")
        wait_until(lambda: state(page) == "Built", 60, "the envs to be built", page)
        field(page, "Checkpoint").fill("nowhere/model.zip")
        click(page, "Load & Play")
        wait_until(lambda: "nowhere" in status_line(page), 10, "the error line", page)
        assert status_line(page) == "checkpoint 'nowhere/model.zip' does not exist"
        assert state(page) == "Built" and not (tmp_path / "logs").exists(), "nothing may be built or written"

        click(page, "Start")
        wait_until(lambda: timesteps(page) > 0, 60, "training to run", page)
        page.close()
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # with PYTHONFAULTHANDLER set: every thread's stack, for the message
            out, _ = proc.communicate(timeout=30)
            raise AssertionError(f"panel.py did not stop within 60 s of Ctrl+C; its output:\n{out}") from None
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    saved = re.search(r"Saved the trained model to: (\S+)", out)
    assert saved and saved.group(1).endswith("model.zip") and Path(saved.group(1)).is_file(), out


def test_panel_script_warns_on_a_non_loopback_host(tmp_path: Path) -> None:
    """--host 0.0.0.0: one warning line, before serving, that anyone reaching the port can train and load."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, str(PANEL), "--host", "0.0.0.0", "--port", "0", "--log_root", str(tmp_path / "logs")]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        warning = next(line for line in iter(proc.stderr.readline, "") if line.startswith("[WARN]"))
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    assert "anyone who can reach port" in warning and "SSH tunnel" in warning, warning


def test_session_refuses_foreign_threads() -> None:
    """The guard the panel puts around its session: only the loop thread may call it."""
    guarded = LoopBoundSession(TrainingSession(num_envs=1), threading.get_ident())
    assert guarded.status.state.value == "IDLE"
    errors: list[BaseException] = []

    def foreign() -> None:
        try:
            guarded.pause()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=foreign)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "not the panel's loop thread" in str(errors[0])
    assert len(guarded.caller_threads) == 2


def test_evaluate_a_run_that_train_py_writes(browser, tmp_path: Path) -> None:
    """train.py trains in a subprocess; the panel lists its run (running), Evaluate plays each newer checkpoint
    while training goes on, and the run shows finished with its final return once train.py ends."""
    from test_evaluate import agent_yaml

    from isaaclab_trainer.train.run_log import RunScanner

    agent = agent_yaml(tmp_path, n_timesteps=90000, checkpoint_interval=8192)
    train = subprocess.Popen(
        [sys.executable, str(TRAIN), "--num_envs", "32", "--headless", "--agent", str(agent)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    panel = BrowserPanel(num_envs=16, seed=42, log_root=str(tmp_path / "logs"), port=0)
    panel.start()
    try:
        page = open_page(browser, panel.url)
        runs_root = tmp_path / "logs" / "sb3" / "Isaac-Cartpole-v0"
        wait_until(lambda: runs_root.is_dir() and any(runs_root.iterdir()), 120, "train.py's run folder")
        (run,) = runs_root.iterdir()
        wait_until(lambda: any(r.name == run.name for r in panel.last_state.runs.rows), 30, "the run in the list")
        field(page, "Run").click()
        page.get_by_role("option").filter(has_text=run.name).first.click()
        wait_until(lambda: field(page, "Run state").input_value() == "running", 30, "the run's state", page)

        click(page, "Evaluate")
        seen: list[int] = []

        def playing_advanced() -> bool:
            text = field(page, "Playing checkpoint").input_value()
            match = re.search(r"\(([\d,]+) timesteps\)", text)
            if match and (not seen or count(match.group(1)) != seen[-1]):
                seen.append(count(match.group(1)))
            return len(seen) >= 3

        wait_until(playing_advanced, 300, "the playing checkpoint to advance twice", page)
        assert train.poll() is None, "train.py must still be training while Evaluate follows it"
        assert seen == sorted(seen) and state(page) == "Playing policy"
        wait_until(lambda: page.locator(".uplot").count() >= 1, 60, "the play-return curve", page)

        assert train.wait(timeout=600) == 0
        final = RunScanner().summary(run)
        wait_until(lambda: field(page, "Run state").input_value() == "finished", 60, "the run to show finished", page)
        assert field(page, "Last return").input_value() == f"{final.last_return:.2f}"
        page.close()
    finally:
        train.kill()
        panel.close(timeout=60)
