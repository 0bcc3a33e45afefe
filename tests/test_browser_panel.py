"""The browser panel as a user clicks it, in a real Chromium (Debian's ``chromium``, driven by Playwright).

What the 3-D view shows is read from the page's own websocket: every frame viser sends is decoded
(viser's wire format: zstd-compressed msgpack + raw buffers) and the batched-mesh transform updates
Newton's ``ViewerViser`` sends for the bodies are counted and compared.
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from browser_page import (
    browser,
    choose,
    click,
    count,
    field,
    open_page,
    state,
    status_line,
    timesteps,
    type_in,
    wait_until,
)
from viser_wire import batched_positions, decode_frame

from isaaclab_trainer.session.session import STEPS_PER_FRAME, TrainingSession
from isaaclab_trainer.session.status import RenderMode
from isaaclab_trainer.ui.browser_app import BrowserApp, LoopBoundSession

__all__ = ["browser"]  # the fixture, shared with the Kit tests
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TRAIN = Path(__file__).resolve().parents[1] / "scripts" / "reinforcement_learning" / "sb3" / "train.py"
PANEL = Path(__file__).resolve().parents[1] / "scripts" / "reinforcement_learning" / "sb3" / "panel.py"


# ----------------------------------------------------------------------------- the page's websocket


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
            positions = batched_positions(message)
            if positions is not None:
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


@pytest.fixture
def panel(tmp_path: Path) -> Iterator[BrowserApp]:
    p = BrowserApp(num_envs=16, seed=42, log_root=str(tmp_path / "logs"), port=0)
    p.start()
    yield p
    p.close(timeout=60)


def on_loop(panel: BrowserApp, fn: Callable[[], Any]) -> Any:
    """``fn()`` run on the panel's loop thread between two frames, where clicks run; its result."""
    out: queue.SimpleQueue = queue.SimpleQueue()
    panel.post(lambda: out.put(fn()))
    return out.get(timeout=30)


class Counters(NamedTuple):
    timesteps: int  # all envs, as the page shows them
    scene_frames: int  # frames whose body transforms were sent to the page
    render_mode: RenderMode


def counters(panel: BrowserApp) -> Counters:
    """The session's timesteps, the frames drawn and the render mode, read together on the loop thread."""
    return on_loop(
        panel, lambda: Counters(panel.vm.session.status.timesteps, panel.scene_frames, panel.vm.session.render_mode)
    )


def switched(panel: BrowserApp, mode: RenderMode, page) -> Counters:
    """The counters once the session renders in ``mode`` (a click is applied on the loop's next frame)."""
    wait_until(lambda: counters(panel).render_mode == mode, 30, f"the session to switch to {mode.name}", page)
    return counters(panel)


def assert_at_most(limit: int, a: Counters, b: Counters) -> None:
    """From ``a`` to ``b``, no drawn frame ran more than ``limit`` env steps of the 16 envs."""
    assert b.scene_frames > a.scene_frames, "frames must be drawn"
    assert b.timesteps - a.timesteps <= limit * 16 * (b.scene_frames - a.scene_frames), (a, b)


# ----------------------------------------------------------------------------- tests


def test_train_switch_modes_stop_and_play(browser, panel: BrowserApp) -> None:
    """Build 16 envs, Start, Partial and No rendering, Pause, Resume, Stop (model.zip), Load & Play, Export, as a
    user clicks."""
    watcher = SceneWatcher()
    page = open_page(browser, panel.url, watcher)

    type_in(page, "Environments", "16")
    click(page, "Build")
    wait_until(lambda: state(page) == "Built", 60, "the envs to be built", page)
    assert status_line(page) == "built 16 envs"

    type_in(page, "Total timesteps", "60000")
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

    # What a frame may run is set by the render mode (Full: one env step per drawn frame, Partial: a few; counted
    # in test_session.py). Here: the page's choice reaches the session, the drawn frames keep to its allowance,
    # and the view moves. Progress values travel on the page's websocket behind every transform sent before
    # them, so once the page shows a count taken after a switch, all frames drawn before it have arrived.
    full = counters(panel)
    assert full.render_mode == RenderMode.FULL_RENDERING
    wait_until(lambda: timesteps(page) > full.timesteps, 30, "the page to show training go on", page)
    assert_at_most(STEPS_PER_FRAME[RenderMode.FULL_RENDERING], full, counters(panel))

    choose(page, "Rendering Mode", "Partial rendering")
    partial = switched(panel, RenderMode.PARTIAL_RENDERING, page)
    wait_until(lambda: timesteps(page) > partial.timesteps, 30, "the page to show a count from Partial", page)
    partial_from = time.monotonic()
    wait_until(lambda: watcher.moving(partial_from), 30, "cart/pole transforms to move in Partial rendering", page)
    assert_at_most(STEPS_PER_FRAME[RenderMode.PARTIAL_RENDERING], partial, counters(panel))

    choose(page, "Rendering Mode", "No rendering")
    quiet = switched(panel, RenderMode.NO_RENDERING, page)
    wait_until(lambda: timesteps(page) > quiet.timesteps, 30, "the page to show a count from No rendering", page)
    received = len(watcher.since(0.0))  # every transform sent before the switch
    wait_until(lambda: field(page, "Mean return").input_value() != "-", 60, "a mean return", page)
    wait_until(lambda: page.locator(".uplot").count() == 1, 30, "the live plot of the mean return", page)
    wait_until(lambda: timesteps(page) > quiet.timesteps + 1000, 30, "training to go on without rendering", page)
    assert counters(panel).scene_frames == quiet.scene_frames, "No rendering must send no transforms"
    assert len(watcher.since(0.0)) == received, "No rendering: no transforms may reach the page"

    click(page, "Pause")
    wait_until(lambda: state(page) == "Paused", 10, "Paused", page)
    frozen = counters(panel).timesteps  # the session was paused by the click, before the page showed it
    wait_until(lambda: timesteps(page) == frozen, 10, "the page to show the paused count", page)
    frames = panel.frames
    wait_until(lambda: panel.frames >= frames + 60, 30, "60 loop frames while paused", page)
    assert counters(panel).timesteps == frozen and timesteps(page) == frozen, "Pause must freeze the counter"

    click(page, "Resume")
    wait_until(lambda: state(page) == "Training", 10, "training to resume", page)
    wait_until(lambda: timesteps(page) > frozen, 30, "timesteps to grow after Resume", page)

    click(page, "Stop")  # the Training section's
    wait_until(lambda: state(page) == "Done", 60, "Stop to finish", page)
    model = Path(field(page, "Run folder").input_value()) / "model.zip"
    assert model.is_file(), f"Stop must write {model}"
    assert count(field(page, "Progress").input_value()) < 60000  # stopped, not finished

    type_in(page, "Checkpoint", str(model))
    play_from = time.monotonic()
    click(page, "Load & Play")
    wait_until(lambda: state(page) == "Playing policy", 30, "the checkpoint to play", page)
    # the state label and the dropdown are separate widget updates: the dropdown may reach the page a frame later
    wait_until(lambda: field(page, "Rendering Mode").input_value() == "Full rendering", 10, "Full rendering", page)
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
        assert "token" not in first, "loopback stays token-free"
        page = open_page(browser, first.split(" at ")[1].split()[0])

        type_in(page, "Environments", "0")
        click(page, "Build")
        wait_until(lambda: "number of environments" in status_line(page), 10, "the error line", page)
        assert status_line(page) == "number of environments must be an integer >= 1, got 0"
        assert state(page) == "Idle"

        type_in(page, "Environments", "4")
        click(page, "Build")
        wait_until(lambda: state(page) == "Built", 60, "the envs to be built", page)
        type_in(page, "Checkpoint", "nowhere/model.zip")
        click(page, "Load & Play")
        wait_until(lambda: "nowhere" in status_line(page), 10, "the error line", page)
        assert status_line(page) == "checkpoint 'nowhere/model.zip' does not exist"
        assert state(page) == "Built" and not (tmp_path / "logs").exists(), "nothing may be built or written"

        type_in(page, "Total timesteps", "100000000")  # no run of 4 envs ends before the Ctrl+C below
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


def _get(port: int, path: str, cookie: str | None = None) -> tuple[int, bytes, str | None]:
    """A bare HTTP GET on localhost: (status, body, its Set-Cookie header)."""
    conn = http.client.HTTPConnection("localhost", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("Set-Cookie")
    finally:
        conn.close()


def _websocket_status(port: int, path: str, cookie: str | None = None) -> int:
    """101 when the page's websocket handshake is accepted, else the HTTP status it gets."""
    import viser
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    try:
        with connect(
            f"ws://localhost:{port}{path}",
            subprotocols=[f"viser-v{viser.__version__}"],
            additional_headers={"Cookie": cookie} if cookie else None,
            open_timeout=30,
        ) as ws:
            ws.recv(timeout=30)  # the server's first messages: the panel is served on it
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_panel_beyond_loopback_needs_the_token(browser, tmp_path: Path) -> None:
    """--host 0.0.0.0: one warning line; the URL line carries a new token; without it every request and the
    websocket get 403 and nothing else (a bare client and Chromium), with it the panel, then via the cookie."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, str(PANEL), "--host", "0.0.0.0", "--port", "0", "--log_root", str(tmp_path / "logs")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = []
        for line in iter(proc.stdout.readline, ""):
            lines.append(line)
            if "Isaac Lab panel at" in line:
                break
        warning = next(line for line in lines if line.startswith("[WARN]"))
        assert "anyone who can reach port" in warning and "SSH tunnel" in warning, warning
        url = re.search(r"panel at (\S+)", lines[-1]).group(1)  # type: ignore[union-attr]
        match = re.fullmatch(r"http://localhost:(\d+)/\?token=([0-9a-f]{48})", url)
        assert match, lines
        port, token = int(match.group(1)), match.group(2)
        assert sum(token in line for line in lines) == 1, "the token is printed once, inside the URL"

        # a bare client: 403 and nothing else without the token, the page with it
        assert _get(port, "/") == (403, b"403 Forbidden\n", None)
        assert _get(port, "/?token=" + "0" * 48)[0] == 403
        assert _get(port, "/index.html", cookie=f"isaaclab_panel_token_{port}={'0' * 48}")[0] == 403
        status, body, set_cookie = _get(port, f"/?token={token}")
        assert status == 200 and b"<html" in body.lower(), status
        assert set_cookie is not None and set_cookie.startswith(f"isaaclab_panel_token_{port}={token};"), set_cookie
        cookie = set_cookie.split(";")[0]
        assert _get(port, "/", cookie=cookie)[0] == 200
        assert _websocket_status(port, "/") == 403
        assert _websocket_status(port, "/", cookie=cookie) == 101
        assert _websocket_status(port, f"/?token={token}") == 101

        # Chromium: the printed URL opens the panel; a reload without the token works through the cookie
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        page.get_by_role("button", name="Build", exact=True).wait_for(timeout=30_000)
        page.goto(f"http://localhost:{port}/")
        page.get_by_role("button", name="Build", exact=True).wait_for(timeout=30_000)
        wait_until(lambda: state(page) == "Idle", 30, "the panel's state over its websocket", page)
        context.close()
        # ... and a fresh browser without it gets 403 and nothing else
        stranger = browser.new_context()
        page = stranger.new_page()
        response = page.goto(f"http://localhost:{port}/")
        assert response is not None and response.status == 403
        assert page.locator("body").inner_text().strip() == "403 Forbidden"
        stranger.close()
    finally:
        proc.kill()
        proc.communicate(timeout=60)


def test_panel_script_is_quiet_about_connections_closed_before_a_request(tmp_path: Path) -> None:
    """A TCP connection opened and closed without a request (a port probe, a browser's pre-connection) prints
    nothing; before any page was served too (viser's own filter only comes with the first request)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # --seed -1 (a random seed, drawn at Build) is accepted as train.py accepts it (tests/test_seed_rule.py)
    args = [sys.executable, str(PANEL), "--seed", "-1", "--port", "0", "--log_root", str(tmp_path / "logs")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = next(line for line in iter(proc.stdout.readline, "") if "http://" in line or "error" in line)
        assert first.startswith("[INFO] Isaac Lab panel at http://127.0.0.1:"), first
        port = urllib.parse.urlsplit(first.split(" at ")[1].split()[0]).port
        for _ in range(3):
            socket.create_connection(("127.0.0.1", port), timeout=10).close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:  # still serving
            assert page.status == 200
        proc.send_signal(signal.SIGINT)  # the server waits for its connection handlers as it closes
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "handshake" not in out, out


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


def test_the_loop_derives_the_panel_state_only_on_frames_that_draw_it(tmp_path: Path) -> None:
    """BrowserApp.frame: the first frame draws the panel; at No rendering every 5th frame does, at Full every one
    (``StateView.due``); the others derive no panel state (``vm.refresh`` is not called)."""
    app = BrowserApp(num_envs=16, seed=42, log_root=str(tmp_path / "logs"), port=0)
    try:
        refreshed_on: list[int] = []
        refresh = app.vm.refresh

        def counted_refresh() -> Any:
            refreshed_on.append(app.frames)
            return refresh()

        app.vm.refresh = counted_refresh  # type: ignore[method-assign]
        app.frame()
        assert app.vm.on_render_mode("No rendering")
        for _ in range(20):
            app.frame()
        assert refreshed_on == [1, 5, 10, 15, 20]
        assert app.vm.on_render_mode("Full rendering")
        for _ in range(3):
            app.frame()
        assert refreshed_on[5:] == [22, 23, 24]
    finally:
        app.close()


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
    panel = BrowserApp(num_envs=16, seed=42, log_root=str(tmp_path / "logs"), port=0)
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
        last = f"{final.last_return:.2f}"  # a widget update of its own, possibly a frame after the state's
        wait_until(lambda: field(page, "Last return").input_value() == last, 30, f"the final return {last}", page)
        page.close()
    finally:
        train.kill()
        panel.close(timeout=60)


def test_the_3d_view_draws_the_ant_where_the_physics_has_it(browser, panel: BrowserApp) -> None:
    """Isaac-Ant-v0 picked in the Task dropdown, 4 envs built: the page receives a shape at every env's torso
    (its physics pose at its place in the grid), and the bodies move once training starts."""
    from isaaclab_trainer.ui.browser import newton_backend

    def torsos() -> np.ndarray:
        backend = newton_backend(panel.vm.session)
        return backend.body_poses()[:, 0, :3].numpy() + np.asarray(backend.env_origins, dtype=np.float32)

    watcher = SceneWatcher()
    page = open_page(browser, panel.url, watcher)
    choose(page, "Task", "Isaac-Ant-v0")
    type_in(page, "Environments", "4")
    built_from = time.monotonic()
    click(page, "Build")
    wait_until(lambda: state(page) == "Built", 120, "the ants to be built", page)
    assert status_line(page) == "built 4 envs"
    wait_until(lambda: len(watcher.since(built_from)) > 0, 30, "the built ants' transforms", page)
    drawn = np.concatenate([data for _, _, data in watcher.since(built_from)])
    for torso in on_loop(panel, torsos):
        assert np.abs(drawn - torso).max(axis=1).min() < 1e-3, (torso, drawn)

    t0 = time.monotonic()
    click(page, "Start")
    # Start builds the evaluation envs too (a second Newton model and MuJoCo Warp solver): longer than the cartpole
    wait_until(lambda: state(page) == "Training", 180, "training to start", page)
    wait_until(lambda: watcher.moving(t0), 60, "the ants' transforms to move in Full rendering", page)
    click(page, "Stop")
    wait_until(lambda: state(page) == "Done", 60, "Stop to finish", page)
    page.close()


def test_no_page_open_no_transforms_sent(browser, panel: BrowserApp) -> None:
    """Training at Full rendering with no page open sends no body transforms (nobody sees them: the loop's CPU
    stays with the training beside it); once a page opens, they are sent every frame again."""
    vm = panel.vm
    assert on_loop(panel, lambda: vm.on_build(vm.selected_task, "16", "1", "newton")), vm.refresh().status_line
    assert on_loop(panel, lambda: vm.on_start("100000000")), vm.refresh().status_line
    start = counters(panel)
    frames = panel.frames
    while panel.frames < frames + 60:  # counted in loop frames, not seconds
        time.sleep(0.05)
    quiet = counters(panel)
    assert quiet.render_mode == RenderMode.FULL_RENDERING and quiet.timesteps > start.timesteps
    assert quiet.scene_frames == start.scene_frames, "no page open: no transforms may be sent"

    watcher = SceneWatcher()
    page = open_page(browser, panel.url, watcher)
    opened = time.monotonic()
    wait_until(lambda: watcher.moving(opened), 30, "cart/pole transforms to move once a page is open", page)
    shown = counters(panel)
    frames = panel.frames
    wait_until(lambda: panel.frames >= frames + 30, 30, "30 loop frames with the page open", page)
    assert_at_most(STEPS_PER_FRAME[RenderMode.FULL_RENDERING], shown, counters(panel))  # every frame sent again
    page.close()
    assert on_loop(panel, vm.on_stop)
