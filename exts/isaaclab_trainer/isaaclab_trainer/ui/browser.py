"""The "Isaac Lab" panel in a browser: viser widgets and Newton's ``ViewerViser`` over a :class:`PanelViewModel`.

A view, like ``kit/window.py``: it draws the :class:`PanelState` an app hands it (``ui/fields.py`` says
which widget shows which field) and forwards clicks; every label, enabled flag and input check comes
from the view-model. It owns no view-model, session or loop: clicks arrive on viser's threads and are
handed to the app's ``post`` (queued to the app's frame loop), and the app calls :meth:`BrowserPanel.draw`
and :meth:`BrowserPanel.apply` from that loop. Two apps drive it: ``ui/browser_app.py`` (panel.py, its
own loop thread) and the Kit extension (Kit's update loop, beside the omni.ui window).

The 3-D view is ``newton.viewer.ViewerViser`` drawing the Newton backend's model (rail, cart and pole
of every env, ground plane) with each world placed at its env's grid place in the stage, lit without
shadows. Render modes: FULL and PARTIAL send the bodies' transforms every frame (one or a few env steps per frame),
NO_RENDERING sends none. Beyond loopback the page requires a token (``ui/access.py``).
"""

from __future__ import annotations

import functools
import html
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from isaaclab_trainer.session.status import RenderMode, SessionState
from isaaclab_trainer.ui.access import LOOPBACK, TOKEN_PARAM, TokenGate, token_gate
from isaaclab_trainer.ui.fields import (
    BUTTONS,
    EVALUATE_VALUE_ROWS,
    FIELD,
    RUN_BUTTONS,
    RUN_VALUE_ROWS,
    VALUE_ROWS,
    Role,
    StateView,
)
from isaaclab_trainer.ui.runs_model import CHECKPOINT_CHOICES, RunsState
from isaaclab_trainer.ui.view_model import RENDER_MODE_LABELS, PanelViewModel

# (``handle.value = x`` lines carry ``type: ignore[misc]``: mypy takes viser's generic ``value``
# property for read-only, though viser defines its setter)

TITLE = "Isaac Lab"
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
#: the Overrides field's hint while it is empty
OVERRIDES_HINT = "isaaclab: tasks: key=value ... (env.scene.robot.spawn.usd_path=/path/robot.usd)"
ERROR_COLOR, INFO_COLOR = "#e03131", "#868e96"


def draw_uplot(
    server: Any,
    folder: Any,
    plot: Any,
    data: tuple[np.ndarray, ...] | None,
    x_label: str,
    lines: tuple[tuple[str, str], ...],
    **options: Any,
) -> Any:
    """A uPlot line chart of ``data`` (x first, then one array per ``(label, color)`` of ``lines``) in
    ``folder``: made with its first points, updated after, hidden while ``data`` is None. Returns the chart
    (None until made); ``options`` go to ``add_uplot`` (e.g. ``order``)."""
    from viser import uplot

    if data is None:
        if plot is not None:
            plot.visible = False
        return plot
    if plot is None:
        series = (uplot.Series(label=x_label), *(uplot.Series(label=n, stroke=c, width=2) for n, c in lines))
        with folder:
            return server.gui.add_uplot(
                data=data, series=series, scales={"x": uplot.Scale(time=False)}, aspect=2.0, **options
            )
    plot.data = data
    plot.visible = True
    return plot


class _NoClosedBeforeRequest(logging.Filter):
    """Drops websockets' "opening handshake failed" record of a connection closed before it sent a request.

    Port probes and browsers' speculative pre-connections open a TCP connection and close it unused; nothing
    failed, yet websockets logs a three-exception traceback for each. viser filters these only once a first
    request has been served; this filter holds from the start, wherever the panel is served. Every other
    handshake failure is still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from websockets.exceptions import InvalidMessage

        exc = record.exc_info[1] if record.exc_info else None
        early_close = isinstance(exc, InvalidMessage) and isinstance(exc.__cause__, EOFError)
        return not (early_close and record.getMessage() == "opening handshake failed")


def quiet_closed_before_request() -> None:
    """Install :class:`_NoClosedBeforeRequest` on websockets' server logger (once)."""
    server_log = logging.getLogger("websockets.server")
    if not any(isinstance(f, _NoClosedBeforeRequest) for f in server_log.filters):
        server_log.addFilter(_NoClosedBeforeRequest())


def newton_backend(session: Any) -> Any | None:
    """The session's physics backend when it can be drawn (a Newton model with env origins), else None."""
    env = getattr(session, "env", None) if session is not None else None
    # this package's envs hold it; an Isaac Lab env's wrapper (tasks/isaaclab/env.py) holds a view of its model
    backend = getattr(env, "backend", None)
    if backend is None:
        backend = getattr(getattr(env, "unwrapped", None), "backend", None)
    return backend if hasattr(backend, "model") and hasattr(backend, "env_origins") else None


def start_viewer(host: str, port: int) -> Any:
    """Newton's ``ViewerViser`` serving on ``host:port``. Newton 1.6 (the one Isaac Lab 3.0 pins) takes no host
    and starts viser on every interface; there viser's server is started with ``host`` while the viewer starts."""
    import viser
    from newton.viewer import ViewerViser

    if "host" in inspect.signature(ViewerViser.__init__).parameters:
        return ViewerViser(host=host, port=port, label=TITLE, verbose=False)
    server_class = viser.ViserServer
    viser.ViserServer = functools.partial(server_class, host=host)  # type: ignore[misc,assignment]
    try:
        return ViewerViser(port=port, label=TITLE, verbose=False)
    finally:
        viser.ViserServer = server_class  # type: ignore[misc]


def viewer_server(viewer: Any) -> Any:
    """The viewer's ``viser.ViserServer`` (Newton 1.6's viewer keeps it as ``_server``, with no property)."""
    server = getattr(viewer, "server", None)
    return server if server is not None else viewer._server


# ----------------------------------------------------------------------------- the Runs section

#: the Runs dropdown's first entry, selected while no run is
NO_RUN = "(choose a run)"
#: the labels of the Runs section's buttons (ui/fields.py's RUN_BUTTONS), told apart from the Training section's
RUN_BUTTON_LABELS = {
    "play": "Play run",
    "resume": "Resume run",
    "export": "Export run",
    "evaluate": "Evaluate",
    "tensorboard": "TensorBoard for run",
}


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
            self.widgets: dict[str, Any] = {f.key: gui.add_text(f.label, "-", disabled=True) for f in RUN_VALUE_ROWS}
            self.which_dd = gui.add_dropdown("Run checkpoint", CHECKPOINT_CHOICES, initial_value=CHECKPOINT_CHOICES[0])
            buttons = {key: gui.add_button(RUN_BUTTON_LABELS[key], disabled=True) for key in RUN_BUTTONS}
        with gui.add_folder("Evaluate", order=order + 1) as self.evaluate_folder:
            self.widgets.update({f.key: gui.add_text(f.label, "-", disabled=True) for f in EVALUATE_VALUE_ROWS})
        self.widgets.update(buttons)

        def selected() -> None:
            if self.run_dd.value != NO_RUN:
                panel._post_value(vm.on_select_run, run_name(self.run_dd.value))

        self.run_dd.on_update(panel._from_client(selected))
        which = lambda: self.which_dd.value  # noqa: E731 - read on viser's thread, used on the loop's
        buttons["play"].on_click(lambda _e: panel._post_value(vm.on_run_play, which()))
        buttons["resume"].on_click(lambda _e: panel._post_value(vm.on_run_resume, panel.total_txt.value))
        buttons["export"].on_click(lambda _e: panel._post_value(vm.on_run_export, which()))
        buttons["evaluate"].on_click(lambda _e: panel.post(vm.on_run_evaluate))
        buttons["tensorboard"].on_click(lambda _e: panel.post(vm.on_run_tensorboard))

    def apply(self, last: RunsState | None, s: RunsState) -> None:
        """Copy ``s`` into the run dropdown and the curve (only what changed; the panel draws ``widgets``)."""

        def changed(name: str) -> bool:
            return last is None or getattr(last, name) != getattr(s, name)

        if changed("rows") or changed("selected"):
            self.run_dd.options = (NO_RUN, *(row.label for row in s.rows))  # type: ignore[misc]
            chosen = s.rows[s.selected].label if s.selected >= 0 else NO_RUN
            if self.run_dd.value != chosen:
                self.run_dd.value = chosen  # type: ignore[misc]
        if changed("eval_curve") or changed("train_curve"):
            self._draw_plot(s)

    def _draw_plot(self, s: RunsState) -> None:
        """Each evaluated checkpoint's play return against its timesteps, beside the run's training curve
        (its rollout mean return at the same timesteps, from the event files)."""
        data = None
        if s.eval_curve:
            x = np.asarray([steps for steps, _ in s.eval_curve], dtype=np.float64)
            played = np.asarray([r for _, r in s.eval_curve], dtype=np.float64)
            if s.train_curve:
                tx, ty = (np.asarray(v, dtype=np.float64) for v in zip(*s.train_curve, strict=True))
                trained = np.interp(x, tx, ty)
            else:
                trained = np.full_like(x, np.nan)
            data = (x, played, trained)
        lines = (("play return", "#e8590c"), ("training return", "#3b82f6"))
        self.plot = draw_uplot(self._server, self.evaluate_folder, self.plot, data, "timesteps", lines)


class BrowserPanel(StateView):
    """Serves the panel and the 3-D view of ``vm`` on ``http://host:port``.

    Args:
        vm: the app's view-model; read and called only from the app's loop (through ``post``, and in
            :meth:`draw` / :meth:`apply`, which the app calls from that loop).
        post: queues a callable for the app's loop (callable from any thread).
        host, port: where viser listens (127.0.0.1 unless asked otherwise; port 0: a free one).
        token: the secret every request must bring (``ui/access.py``); None: open.
        num_envs, seed: initial values of the Task fields (None: the selected task's config).
    """

    def __init__(
        self,
        vm: PanelViewModel,
        post: Callable[[Callable[[], Any]], None],
        host: str = LOOPBACK,
        port: int = 8080,
        token: str | None = None,
        num_envs: int | None = None,
        seed: int | None = None,
    ) -> None:
        quiet_closed_before_request()

        self.vm = vm
        self.post = post
        self.token = token
        self.scene_frames = 0  # frames whose body transforms were sent to the browser
        self._shown_model: Any = None
        self._t0 = time.monotonic()
        self.gate = TokenGate(token) if token else None
        with token_gate(self.gate):
            self.viewer = start_viewer(host, port)
        self.viewer.picking_enabled = False  # a picking handle would push bodies the learner does not know of
        self.server = viewer_server(self.viewer)
        # no shadow maps: a browser without a GPU (software WebGL) spends about half of each drawn frame's CPU
        # on them (~280 -> ~140 ms a frame for 64 cartpoles; docs/benchmarks.md, comparison 10)
        self.server.scene.configure_default_lights(enabled=True, cast_shadow=False)
        defaults = vm.default_build_args()
        self._build_gui(defaults.num_envs if num_envs is None else num_envs, defaults.seed if seed is None else seed)

    @property
    def url(self) -> str:
        """``http://<host>:<port>/`` of the page, with ``?token=`` when one is required (``localhost`` when
        listening on every interface, as viser says)."""
        host = self.server.get_host()
        url = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{self.server.get_port()}/"
        return f"{url}?{TOKEN_PARAM}={self.token}" if self.token else url

    # -- widgets --------------------------------------------------------------------------------

    def _build_gui(self, num_envs: int, seed: int) -> None:
        gui, vm = self.server.gui, self.vm
        gui.configure_theme(control_width="large")
        tasks = tuple(vm.tasks) or ("",)
        with gui.add_folder("Task", order=-50):
            self.task_dd = gui.add_dropdown("Task", tasks, initial_value=vm.selected_task or tasks[0])
            self.num_envs_txt = gui.add_text("Environments", str(num_envs))
            self.seed_txt = gui.add_text("Seed", str(seed))
            self.backend_dd = gui.add_dropdown("Physics backend", vm.backends, initial_value=vm.backends[0])
            self.overrides_txt = gui.add_text(FIELD["overrides"].label, vm.overrides_text, hint=OVERRIDES_HINT)
            self.engine_txt = gui.add_text(FIELD["engine"].label, "-", disabled=True)
            self.build_btn = gui.add_button("Build")
            self.state_txt = gui.add_text(FIELD["state"].label, "Idle", disabled=True)
        with gui.add_folder("Training", order=-40) as self.training_folder:
            self.total_txt = gui.add_text("Total timesteps", "")
            self.start_btn = gui.add_button("Start")
            self.pause_btn = gui.add_button("Pause")
            self.resume_btn = gui.add_button("Resume")
            self.stop_btn = gui.add_button("Stop")
            self.progress = gui.add_progress_bar(0.0)
            self.values = {f.key: gui.add_text(f.label, "-", disabled=True) for f in VALUE_ROWS}
        self.plot: Any = None  # created with its first points: uPlot never recovers from empty initial data
        with gui.add_folder("Rendering", order=-30):
            self.render_dd = gui.add_dropdown("Rendering Mode", RENDER_MODE_LABELS, initial_value=RENDER_MODE_LABELS[2])
        with gui.add_folder("Checkpoints", order=-20):
            self.latest_txt = gui.add_text(FIELD["latest_checkpoint"].label, "(none found)", disabled=True)
            self.use_btn = gui.add_button("Use newest")
            self.best_txt = gui.add_text(FIELD["best_checkpoint"].label, "(none found)", disabled=True)
            self.use_best_btn = gui.add_button("Use best")
            self.path_txt = gui.add_text("Checkpoint", "")
            self.load_play_btn = gui.add_button("Load & Play")
            self.play_stop_btn = gui.add_button("Stop playing")
            self.export_btn = gui.add_button("Export")
        self.runs_section = self.runs_view = RunsSection(self, order=-35)
        with gui.add_folder("Logs", order=-10):
            self.tb_txt = gui.add_text(FIELD["tensorboard_command"].label, "", disabled=True)
            self.tb_btn = gui.add_button("Start TensorBoard")
            self.tb_url_txt = gui.add_text(FIELD["tensorboard_url"].label, "", disabled=True)
        self.status_html = gui.add_html("", order=-60)
        self.widgets = {
            **{key: getattr(self, f"{key}_btn") for key in BUTTONS},
            "task_inputs": (self.task_dd, self.num_envs_txt, self.seed_txt, self.backend_dd, self.overrides_txt),
            "overrides": self.overrides_txt,
            "state": self.state_txt,
            "engine": self.engine_txt,
            **self.values,
            "latest_checkpoint": self.latest_txt,
            "best_checkpoint": self.best_txt,
            "tensorboard_command": self.tb_txt,
            "tensorboard_url": self.tb_url_txt,
            "status": self.status_html,
            "progress": self.progress,
            "plot": self,  # drawn by _draw_plot (created with its first points)
            "render_mode": self.render_dd,
        }

        # forwarding: read the fields on viser's thread, act on the app's loop
        self.task_dd.on_update(self._from_client(lambda: self._post_value(vm.on_task_changed, self.task_dd.value)))
        self.build_btn.on_click(lambda _e: self.post(self._build_args()))
        self.start_btn.on_click(lambda _e: self._post_value(vm.on_start, self.total_txt.value))
        self.pause_btn.on_click(lambda _e: self.post(vm.on_pause))
        self.resume_btn.on_click(lambda _e: self.post(vm.on_resume))
        self.stop_btn.on_click(lambda _e: self.post(vm.on_stop))
        self.render_dd.on_update(self._from_client(lambda: self._post_value(vm.on_render_mode, self.render_dd.value)))
        self.use_btn.on_click(lambda _e: self.post(lambda: self._use(self.vm.latest_checkpoint())))
        self.use_best_btn.on_click(lambda _e: self.post(lambda: self._use(self.vm.best_checkpoint())))
        self.load_play_btn.on_click(lambda _e: self._post_value(vm.on_load_and_play, self.path_txt.value))
        self.play_stop_btn.on_click(lambda _e: self.post(vm.on_stop))
        self.export_btn.on_click(lambda _e: self._post_value(vm.on_export, self.path_txt.value))
        self.tb_btn.on_click(lambda _e: self.post(vm.on_start_tensorboard))

    def _draw_plot(self, values: tuple[float, ...]) -> None:
        """The mean return per rollout, as a uPlot chart under the Training values (hidden while empty)."""
        data = (np.arange(len(values), dtype=np.float64), np.asarray(values, dtype=np.float64)) if values else None
        lines = (("mean return", "#3b82f6"),)
        order = self.values["run_dir"].order + 0.5
        self.plot = draw_uplot(self.server, self.training_folder, self.plot, data, "rollout", lines, order=order)

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
        backend, overrides = self.backend_dd.value, self.overrides_txt.value

        def build() -> None:
            if self.vm.on_build(task, num_envs, seed, backend, overrides=overrides):
                default = self.vm.default_total_timesteps()
                if default is not None:
                    self.total_txt.value = f"{default:,}"  # type: ignore[misc]

        return build

    def _use(self, found: str | None) -> None:
        """Put a checkpoint the view-model picked into the Checkpoint field."""
        if found:
            self.path_txt.value = found  # type: ignore[misc]

    # -- drawing (called from the app's loop) ---------------------------------------------------

    def draw(self, state: Any) -> None:
        """The 3-D view of this frame: the built envs once, then the bodies every frame they move and render
        while a page is open (``state``: the frame's ``FrameState`` or a ``PanelState``; only its state and render
        mode are read). With no page open nobody sees them: sending them (Newton's viewer and viser's message
        buffer: about half the loop's CPU a frame) is skipped; a page that opens gets the scene from viser's buffer
        and the bodies from the next frame on."""
        backend = newton_backend(self.vm.session)
        model = backend.model if backend is not None else None
        if model is not self._shown_model:
            self._show_model(backend)
            self._log_state(backend)  # the built envs at rest, whatever the mode
            return
        moving = state.state in (SessionState.TRAINING, SessionState.PLAYING)
        shown = state.render_mode != RenderMode.NO_RENDERING and self.server.get_clients()
        if backend is not None and moving and shown:
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
        self.viewer.begin_frame(time.monotonic() - self._t0)
        self.viewer.log_state(backend.state)
        self.viewer.end_frame()
        self.scene_frames += 1

    def set(self, role: Role, widget: Any, *values: Any) -> None:
        if role is Role.ENABLED:
            widget.disabled = not values[0]
        elif role is Role.TEXT:
            widget.value = values[0]
        elif role is Role.STATUS:
            line, is_error = values
            color = ERROR_COLOR if is_error else INFO_COLOR
            widget.content = (
                f'<div id="isaaclab-status" style="color:{color};padding:0 0.75em">{html.escape(line)}</div>'
            )
        elif role is Role.PROGRESS:
            widget.value = 100.0 * values[0]
        elif role is Role.PLOT:
            self._draw_plot(values[0])
        elif role is Role.CHOICE and widget.value != RENDER_MODE_LABELS[values[0]]:
            widget.value = RENDER_MODE_LABELS[values[0]]

    def close(self) -> None:
        """Stop serving."""
        self.viewer.close()
