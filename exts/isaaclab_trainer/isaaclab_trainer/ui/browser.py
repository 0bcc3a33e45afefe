"""The "Isaac Lab" panel in a browser: viser widgets and Newton's ``ViewerViser`` over :class:`PanelViewModel`.

Like ``kit/window.py`` this module only draws a :class:`PanelState` and forwards clicks; every label,
enabled flag and input check comes from the view-model. Kit's contract is kept: one loop thread
(:meth:`BrowserPanel.run_loop`) ticks the view-model once per frame (~60 Hz) and is the only thread
that touches the session, the physics and the 3-D view. Clicks arrive on viser's threads and are
queued to that loop (:meth:`BrowserPanel.post`); :class:`LoopBoundSession` refuses any other caller.

The 3-D view is ``newton.viewer.ViewerViser`` drawing the Newton backend's model (rail, cart and pole
of every env, ground plane) with each world placed at its env's grid place in the stage. Render
modes: FULL and PARTIAL send the bodies' transforms every frame (one or a few env steps per frame),
NO_RENDERING sends none.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from isaaclab_trainer.session.status import RenderMode, SessionState
from isaaclab_trainer.sim.backends.registry import NEWTON
from isaaclab_trainer.tasks import DEFAULT_TASK
from isaaclab_trainer.train.runs import LOG_ROOT
from isaaclab_trainer.ui.runs_model import CHECKPOINT_CHOICES, RunsState
from isaaclab_trainer.ui.view_model import (
    RENDER_MODE_LABELS,
    PanelState,
    PanelViewModel,
    SessionLike,
    ui_refresh_period,
)

logger = logging.getLogger(__name__)
# (``handle.value = x`` lines carry ``type: ignore[misc]``: mypy takes viser's generic ``value``
# property for read-only, though viser defines its setter)

FPS = 60.0
TITLE = "Isaac Lab"
#: the engine this view draws (Newton's viewer); the Task section offers no other
BACKEND = NEWTON
#: camera on the first envs: from the +X/-Y side of env 0, looking across the grid (Z up, degrees)
CAMERA_OFFSET = (6.0, -6.0, 4.0)
#: Debian's Chromium and the flags that open this page headless on a machine with no outside network
#: (the tests and the benchmark view the panel with them; without the networking flags Chromium keeps
#: trying to reach Google's hosts)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_HEADLESS_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
CAMERA_PITCH, CAMERA_YAW = -20.0, 135.0
ERROR_COLOR, INFO_COLOR = "#e03131", "#868e96"
#: PanelState fields drawn as read-only text rows
VALUE_ROWS = (
    ("progress_text", "Progress"),
    ("steps_per_second_text", "Env steps / s"),
    ("mean_return_text", "Mean return"),
    ("episodes_text", "Episodes"),
    ("run_dir_text", "Run folder"),
)
#: PanelState enabled flags -> button attribute names
BUTTONS = (
    ("build_enabled", "build_btn"),
    ("start_enabled", "start_btn"),
    ("pause_enabled", "pause_btn"),
    ("resume_enabled", "resume_btn"),
    ("stop_enabled", "stop_btn"),
    ("load_play_enabled", "play_btn"),
    ("play_stop_enabled", "play_stop_btn"),
    ("export_enabled", "export_btn"),
)


class LoopBoundSession:
    """A session that only the panel's loop thread may use; a call from any other thread raises.

    Every caller's thread id is kept in :attr:`caller_threads`, so a test can check who called.
    """

    def __init__(self, session: SessionLike, loop_thread: int) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_loop_thread", loop_thread)
        object.__setattr__(self, "caller_threads", set())

    def __getattr__(self, name: str) -> Any:
        caller = threading.get_ident()
        self.caller_threads.add(caller)
        if caller != self._loop_thread:
            raise RuntimeError(f"session.{name} used from thread {caller}, not the panel's loop thread")
        return getattr(self._session, name)


def newton_backend(session: Any) -> Any | None:
    """The session's physics backend when it can be drawn (a Newton model with env origins), else None."""
    env = getattr(session, "env", None) if session is not None else None
    backend = getattr(getattr(env, "unwrapped", None), "backend", None)
    return backend if hasattr(backend, "model") and hasattr(backend, "env_origins") else None


# ----------------------------------------------------------------------------- the Runs section

#: the Runs dropdown's first entry, selected while no run is
NO_RUN = "(choose a run)"
#: RunsState fields drawn as read-only text rows of the Runs section
RUN_ROWS = (
    ("state_text", "Run state"),
    ("timesteps_text", "Run timesteps"),
    ("last_return_text", "Last return"),
    ("best_return_text", "Best return"),
    ("checkpoints_text", "Checkpoints"),
)
EVALUATE_ROWS = (("evaluated_run_text", "Evaluating"), ("playing_text", "Playing checkpoint"))
RUN_BUTTONS = (
    ("play_enabled", "Play run"),
    ("resume_enabled", "Resume run"),
    ("export_enabled", "Export run"),
    ("evaluate_enabled", "Evaluate"),
    ("tensorboard_enabled", "TensorBoard for run"),
)


def run_name(label: str) -> str:
    """The run a Runs dropdown label names (its first field)."""
    return label.split("  ")[0]


class RunsSection:
    """The "Runs" and "Evaluate" folders: the runs on disk, the selected run's actions, the evaluation curve."""

    def __init__(self, panel: BrowserPanel, order: float) -> None:
        gui, vm = panel.server.gui, panel.vm
        self._panel = panel
        self._server = panel.server
        self.plot: Any = None
        with gui.add_folder("Runs", order=order):
            self.run_dd = gui.add_dropdown("Run", (NO_RUN,), initial_value=NO_RUN)
            self.values = {name: gui.add_text(label, "-", disabled=True) for name, label in RUN_ROWS}
            self.which_dd = gui.add_dropdown("Run checkpoint", CHECKPOINT_CHOICES, initial_value=CHECKPOINT_CHOICES[0])
            self.buttons = {name: gui.add_button(label, disabled=True) for name, label in RUN_BUTTONS}
        with gui.add_folder("Evaluate", order=order + 1) as self.evaluate_folder:
            self.eval_values = {name: gui.add_text(label, "-", disabled=True) for name, label in EVALUATE_ROWS}

        def selected() -> None:
            if self.run_dd.value != NO_RUN:
                panel._post_value(vm.on_select_run, run_name(self.run_dd.value))

        self.run_dd.on_update(panel._from_client(selected))
        which = lambda: self.which_dd.value  # noqa: E731 - read on viser's thread, used on the loop's
        self.buttons["play_enabled"].on_click(lambda _e: panel._post_value(vm.on_run_play, which()))
        self.buttons["resume_enabled"].on_click(lambda _e: panel._post_value(vm.on_run_resume, panel.total_txt.value))
        self.buttons["export_enabled"].on_click(lambda _e: panel._post_value(vm.on_run_export, which()))
        self.buttons["evaluate_enabled"].on_click(lambda _e: panel.post(vm.on_run_evaluate))
        self.buttons["tensorboard_enabled"].on_click(lambda _e: panel.post(vm.on_run_tensorboard))

    def apply(self, last: RunsState | None, s: RunsState) -> None:
        """Copy ``s`` into the section's widgets (only what changed)."""

        def changed(name: str) -> bool:
            return last is None or getattr(last, name) != getattr(s, name)

        if changed("rows") or changed("selected"):
            self.run_dd.options = (NO_RUN, *(row.label for row in s.rows))  # type: ignore[misc]
            chosen = s.rows[s.selected].label if s.selected >= 0 else NO_RUN
            if self.run_dd.value != chosen:
                self.run_dd.value = chosen  # type: ignore[misc]
        for name, handle in (*self.values.items(), *self.eval_values.items()):
            if changed(name):
                handle.value = getattr(s, name)  # type: ignore[misc]
        for name, button in self.buttons.items():
            if changed(name):
                button.disabled = not getattr(s, name)
        if changed("eval_curve") or changed("train_curve"):
            self._draw_plot(s)

    def _draw_plot(self, s: RunsState) -> None:
        """Each evaluated checkpoint's play return against its timesteps, beside the run's training curve
        (its rollout mean return at the same timesteps, from the event files)."""
        from viser import uplot

        if not s.eval_curve:
            if self.plot is not None:
                self.plot.visible = False
            return
        x = np.asarray([steps for steps, _ in s.eval_curve], dtype=np.float64)
        played = np.asarray([r for _, r in s.eval_curve], dtype=np.float64)
        if s.train_curve:
            tx, ty = (np.asarray(v, dtype=np.float64) for v in zip(*s.train_curve, strict=True))
            trained = np.interp(x, tx, ty)
        else:
            trained = np.full_like(x, np.nan)
        data = (x, played, trained)
        if self.plot is None:
            with self.evaluate_folder:
                self.plot = self._server.gui.add_uplot(
                    data=data,
                    series=(
                        uplot.Series(label="timesteps"),
                        uplot.Series(label="play return", stroke="#e8590c", width=2),
                        uplot.Series(label="training return", stroke="#3b82f6", width=2),
                    ),
                    scales={"x": uplot.Scale(time=False)},
                    aspect=2.0,
                )
        else:
            self.plot.data = data
            self.plot.visible = True


class BrowserPanel:
    """Serves the panel and the 3-D view on ``http://host:port`` and runs the app loop.

    Args:
        task, num_envs, seed: initial values of the Task fields (None: the task config's).
        device: simulation device of the sessions it builds (None: the task config's).
        log_root: folder of ``sb3/<task>/<run>``.
        host, port: where viser listens (127.0.0.1 unless asked otherwise).
        fps: loop frequency, as Kit's update event.
    """

    def __init__(
        self,
        task: str = DEFAULT_TASK,
        num_envs: int | None = None,
        seed: int | None = None,
        device: str | None = None,
        log_root: str = LOG_ROOT,
        host: str = "127.0.0.1",
        port: int = 8080,
        fps: float = FPS,
    ) -> None:
        from newton.viewer import ViewerViser

        self.device = device
        self.period = 1.0 / fps
        self._actions: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stop = threading.Event()
        # set when the loop has ended. Waited on instead of Thread.join: a Ctrl+C that interrupts
        # join() can make CPython report the thread as ended while it still runs
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None
        self.loop_thread_id: int | None = None
        self.sessions: list[LoopBoundSession] = []
        self.frames = 0
        self._failing = False
        self.scene_frames = 0  # frames whose body transforms were sent to the browser
        self._last: PanelState | None = None
        self._shown_model: Any = None
        #: ``model.zip`` written when the panel closed during training (Ctrl+C), else None
        self.saved_model: str | None = None
        self.vm = PanelViewModel(session_factory=self._make_session, log_root=log_root, backends=(BACKEND,))
        if task in self.vm.tasks:
            self.vm.on_task_changed(task)
        defaults = self.vm.default_build_args()
        num_envs = defaults.num_envs if num_envs is None else num_envs
        seed = defaults.seed if seed is None else seed
        self.viewer = ViewerViser(host=host, port=port, label=TITLE, verbose=False)
        self.viewer.picking_enabled = False  # a picking handle would push bodies the learner does not know of
        self.server = self.viewer.server
        self._build_gui(num_envs, seed)

    @property
    def last_state(self) -> PanelState | None:
        """The state the widgets show now (safe to read from any thread: a frozen snapshot)."""
        return self._last

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` of the page (``localhost`` when listening on every interface, as viser says)."""
        host = self.server.get_host()
        return f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{self.server.get_port()}"

    # -- widgets --------------------------------------------------------------------------------

    def _build_gui(self, num_envs: int, seed: int) -> None:
        gui, vm = self.server.gui, self.vm
        gui.configure_theme(control_width="large")
        tasks = tuple(vm.tasks) or ("",)
        with gui.add_folder("Task", order=-50):
            self.task_dd = gui.add_dropdown("Task", tasks, initial_value=vm.selected_task or tasks[0])
            self.num_envs_txt = gui.add_text("Environments", str(num_envs))
            self.seed_txt = gui.add_text("Seed", str(seed))
            self.build_btn = gui.add_button("Build")
            self.state_txt = gui.add_text("State", "Idle", disabled=True)
        with gui.add_folder("Training", order=-40) as self.training_folder:
            self.total_txt = gui.add_text("Total timesteps", "")
            self.start_btn = gui.add_button("Start")
            self.pause_btn = gui.add_button("Pause")
            self.resume_btn = gui.add_button("Resume")
            self.stop_btn = gui.add_button("Stop")
            self.progress = gui.add_progress_bar(0.0)
            self.values = {field: gui.add_text(label, "-", disabled=True) for field, label in VALUE_ROWS}
        self.plot: Any = None  # created with its first points: uPlot never recovers from empty initial data
        with gui.add_folder("Rendering", order=-30):
            self.render_dd = gui.add_dropdown("Rendering Mode", RENDER_MODE_LABELS, initial_value=RENDER_MODE_LABELS[2])
        with gui.add_folder("Checkpoints", order=-20):
            self.latest_txt = gui.add_text("Newest", "(none found)", disabled=True)
            self.use_btn = gui.add_button("Use newest")
            self.path_txt = gui.add_text("Checkpoint", "")
            self.play_btn = gui.add_button("Load & Play")
            self.play_stop_btn = gui.add_button("Stop playing")
            self.export_btn = gui.add_button("Export")
        self.runs_section = RunsSection(self, order=-35)
        with gui.add_folder("Logs", order=-10):
            self.tb_txt = gui.add_text("TensorBoard", "", disabled=True)
            self.tb_btn = gui.add_button("Start TensorBoard")
            self.tb_url_txt = gui.add_text("TensorBoard URL", "", disabled=True)
        self.status_html = gui.add_html("", order=-60)

        # forwarding: read the fields on viser's thread, act on the loop thread
        self.task_dd.on_update(self._from_client(lambda: self._post_value(vm.on_task_changed, self.task_dd.value)))
        self.build_btn.on_click(lambda _e: self.post(self._build_args()))
        self.start_btn.on_click(lambda _e: self._post_value(vm.on_start, self.total_txt.value))
        self.pause_btn.on_click(lambda _e: self.post(vm.on_pause))
        self.resume_btn.on_click(lambda _e: self.post(vm.on_resume))
        self.stop_btn.on_click(lambda _e: self.post(vm.on_stop))
        self.render_dd.on_update(self._from_client(lambda: self._post_value(vm.on_render_mode, self.render_dd.value)))
        self.use_btn.on_click(lambda _e: self.post(self._use_latest))
        self.play_btn.on_click(lambda _e: self._post_value(vm.on_load_and_play, self.path_txt.value))
        self.play_stop_btn.on_click(lambda _e: self.post(vm.on_stop))
        self.export_btn.on_click(lambda _e: self._post_value(vm.on_export, self.path_txt.value))
        self.tb_btn.on_click(lambda _e: self.post(vm.on_start_tensorboard))

    def _draw_plot(self, values: tuple[float, ...]) -> None:
        """The mean return per rollout, as a uPlot chart under the Training values (hidden while empty)."""
        from viser import uplot

        if not values:
            if self.plot is not None:
                self.plot.visible = False
            return
        data = (np.arange(len(values), dtype=np.float64), np.asarray(values, dtype=np.float64))
        if self.plot is None:
            with self.training_folder:
                self.plot = self.server.gui.add_uplot(
                    data=data,
                    series=(
                        uplot.Series(label="rollout"),
                        uplot.Series(label="mean return", stroke="#3b82f6", width=2),
                    ),
                    scales={"x": uplot.Scale(time=False)},
                    aspect=2.0,
                    order=self.values["run_dir_text"].order + 0.5,
                )
        else:
            self.plot.data = data
            self.plot.visible = True

    @staticmethod
    def _from_client(fn: Callable[[], None]) -> Callable[[Any], None]:
        """An on_update callback that ignores the updates this panel itself sends (no client id)."""

        def callback(event: Any) -> None:
            if event.client_id is not None:
                fn()

        return callback

    def _post_value(self, action: Callable[[Any], Any], value: Any) -> None:
        self.post(lambda: action(value))

    def _build_args(self) -> Callable[[], None]:
        task, num_envs, seed = self.task_dd.value, self.num_envs_txt.value, self.seed_txt.value

        def build() -> None:
            if self.vm.on_build(task, num_envs, seed, BACKEND):
                default = self.vm.default_total_timesteps()
                if default is not None:
                    self.total_txt.value = f"{default:,}"  # type: ignore[misc]

        return build

    def _use_latest(self) -> None:
        found = self.vm.latest_checkpoint()
        if found:
            self.path_txt.value = found  # type: ignore[misc]

    # -- the loop -------------------------------------------------------------------------------

    def post(self, action: Callable[[], Any]) -> None:
        """Queue ``action`` for the loop thread (callable from any thread)."""
        self._actions.put(action)

    def _make_session(self, **kwargs: Any) -> SessionLike:
        from isaaclab_trainer.session.session import TrainingSession

        assert self.loop_thread_id is not None
        session = LoopBoundSession(TrainingSession(device=self.device, **kwargs), self.loop_thread_id)
        self.sessions.append(session)
        return session  # type: ignore[return-value]

    def start(self) -> None:
        """Run the loop on a thread of its own."""
        self._thread = threading.Thread(target=self.run_loop, name="isaaclab-panel-loop", daemon=True)
        self._thread.start()

    def run_loop(self) -> None:
        """Tick the view-model once per frame until :meth:`close`; closes the session on the way out."""
        self.loop_thread_id = threading.get_ident()
        next_frame = time.perf_counter()
        try:
            while not self._stop.is_set():
                self.frame()
                next_frame += self.period
                delay = next_frame - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_frame = time.perf_counter()
        finally:
            try:
                self._shutdown()
            finally:
                self._ended.set()

    def _shutdown(self) -> None:
        """Close the session on the loop thread: a run in progress stops and saves ``model.zip``."""
        session = self.vm.session
        was_training = session is not None and session.status.state in (SessionState.TRAINING, SessionState.PAUSED)
        self.vm.shutdown()
        if session is not None and was_training:
            self.saved_model = session.status.last_checkpoint

    def frame(self) -> None:
        """One app frame on the loop thread: queued clicks, ``tick``, the 3-D view, the widgets."""
        while True:
            try:
                action = self._actions.get_nowait()
            except queue.Empty:
                break
            try:
                action()
            except Exception:  # noqa: BLE001 - a broken click must not end the loop
                logger.exception("Isaac Lab panel: action failed")
        self.frames += 1
        try:  # the one guard that keeps the loop alive, logging once per failure streak (as Kit's)
            state = self.vm.tick()
            self._draw_scene(state)
            if self._last is None or self.frames % ui_refresh_period(state.render_mode) == 0:
                self.apply(state)
            self._failing = False
        except Exception:  # noqa: BLE001
            if not self._failing:
                logger.exception("Isaac Lab panel: frame failed")
            self._failing = True

    def _draw_scene(self, state: PanelState) -> None:
        backend = newton_backend(self.vm.session)
        model = backend.model if backend is not None else None
        if model is not self._shown_model:
            self._show_model(backend)
            self._log_state(backend)  # the built envs at rest, whatever the mode
            return
        moving = state.state in (SessionState.TRAINING, SessionState.PLAYING)
        if backend is not None and moving and state.render_mode != RenderMode.NO_RENDERING:
            self._log_state(backend)

    def _show_model(self, backend: Any | None) -> None:
        import warp as wp

        self._shown_model = backend.model if backend is not None else None
        self.viewer.set_model(self._shown_model)
        if backend is None:
            return
        self.viewer.world_offsets = wp.array(backend.env_origins, dtype=wp.vec3, device=self.viewer.device)
        x, y, z = (float(c) for c in backend.env_origins[0])
        dx, dy, dz = CAMERA_OFFSET
        self.viewer.set_camera(wp.vec3(x + dx, y + dy, z + dz), pitch=CAMERA_PITCH, yaw=CAMERA_YAW)

    def _log_state(self, backend: Any | None) -> None:
        if backend is None:
            return
        self.viewer.begin_frame(self.frames * self.period)
        self.viewer.log_state(backend.state)
        self.viewer.end_frame()
        self.scene_frames += 1

    # -- drawing --------------------------------------------------------------------------------

    def apply(self, s: PanelState) -> None:
        """Copy ``s`` into the widgets (only what changed since the last call)."""
        last, self._last = self._last, s

        def changed(name: str) -> bool:
            return last is None or getattr(last, name) != getattr(s, name)

        for name, attr in BUTTONS:
            if changed(name):
                getattr(self, attr).disabled = not getattr(s, name)
        if changed("task_inputs_enabled"):
            for handle in (self.task_dd, self.num_envs_txt, self.seed_txt):
                handle.disabled = not s.task_inputs_enabled
        for name, handle in (
            ("state_label", self.state_txt),
            ("latest_checkpoint_text", self.latest_txt),
            ("tensorboard_command", self.tb_txt),
            ("tensorboard_url", self.tb_url_txt),
            *((field, self.values[field]) for field, _ in VALUE_ROWS),
        ):
            if changed(name):
                handle.value = getattr(s, name)  # type: ignore[misc]
        if changed("status_line") or changed("status_is_error"):
            color = ERROR_COLOR if s.status_is_error else INFO_COLOR
            self.status_html.content = (
                f'<div id="isaaclab-status" style="color:{color};padding:0 0.75em">{html.escape(s.status_line)}</div>'
            )
        if changed("progress"):
            self.progress.value = 100.0 * s.progress  # type: ignore[misc]
        if changed("plot_values"):
            self._draw_plot(s.plot_values)
        if changed("render_mode_index") and self.render_dd.value != RENDER_MODE_LABELS[s.render_mode_index]:
            self.render_dd.value = RENDER_MODE_LABELS[s.render_mode_index]  # type: ignore[misc]
        if changed("runs"):
            self.runs_section.apply(last.runs if last is not None else None, s.runs)

    # -- lifetime -------------------------------------------------------------------------------

    def is_running(self) -> bool:
        """True from :meth:`start` until the loop has ended."""
        return self._thread is not None and not self._ended.is_set()

    def wait(self, timeout: float) -> None:
        """Block up to ``timeout`` s or until the loop ends (lets Ctrl+C reach the main thread)."""
        if self._thread is not None:
            self._ended.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop the loop (which closes the session: training stops and ``model.zip`` is saved), then the server."""
        self._stop.set()
        if self._thread is not None:
            self._ended.wait(timeout)
        self.viewer.close()
