"""Presentation logic of the "Isaac Lab" panel, without Kit.

The Kit window (``isaaclab_trainer.kit.window``) only draws widgets and forwards clicks here; every
label, enabled flag, number format and input check lives in :class:`PanelViewModel`, so pytest covers
the panel's behaviour on any machine. Once per app frame the extension calls :meth:`PanelViewModel.tick`
(session.update + :meth:`PanelViewModel.refresh`) and copies the returned :class:`PanelState` into widgets.

No action method ever raises: a bad input or a failing session call becomes one line in
:attr:`PanelState.status_line` (the full traceback goes to the Python logger).
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from isaaclab_trainer.session.status import RenderMode, SessionState, SessionStatus
from isaaclab_trainer.sim.backends.registry import backend_names
from isaaclab_trainer.train.checks import (
    UsageError,
    check_backend_name,
    check_count,
    check_num_envs,
    check_seed,
    check_task,
    run_seed,
)
from isaaclab_trainer.train.runs import BEST, CHECKPOINT_SELECTORS, LATEST, LOG_ROOT, is_selector, task_log_root
from isaaclab_trainer.utils import ConfigError, one_line, printable

from .runs_model import RunsModel, RunsState, pick_checkpoint

logger = logging.getLogger(__name__)

#: labels of the "Rendering Mode" dropdown, in widget order
RENDER_MODE_LABELS: tuple[str, ...] = ("No rendering", "Partial rendering", "Full rendering")
_RENDER_MODES: tuple[RenderMode, ...] = (
    RenderMode.NO_RENDERING,
    RenderMode.PARTIAL_RENDERING,
    RenderMode.FULL_RENDERING,
)
STATE_LABELS: dict[SessionState, str] = {
    SessionState.IDLE: "Idle",
    SessionState.BUILT: "Built",
    SessionState.TRAINING: "Training",
    SessionState.PAUSED: "Paused",
    SessionState.PLAYING: "Playing policy",
    SessionState.DONE: "Done",
    SessionState.ERROR: "Error",
}
MAX_PLOT_POINTS = 200
NO_VALUE = "-"
#: the Overrides field's label, and the source its error lines name (as train.py's name "command line")
OVERRIDES_LABEL = "Overrides"


#: a panel field holds an unusable value: the same error as bad input anywhere, shown as is in the status line
InputError = UsageError


class SessionLike(Protocol):
    """The part of ``isaaclab_trainer.session.TrainingSession`` the panel uses."""

    @property
    def status(self) -> SessionStatus: ...

    @property
    def default_total_timesteps(self) -> int: ...

    @property
    def stepping(self) -> bool: ...

    def build(self) -> Any: ...

    def start_training(self, total_timesteps: int | None = None, checkpoint: str | None = None) -> Any: ...

    def update(self) -> Any: ...

    def pause(self) -> Any: ...

    def resume(self) -> Any: ...

    def stop(self) -> Any: ...

    def set_render_mode(self, mode: RenderMode) -> Any: ...

    def load_checkpoint(self, path: str) -> Any: ...

    def play(self) -> Any: ...

    def evaluate(self, run_dir: str) -> Any: ...

    def close(self) -> Any: ...


SessionFactory = Callable[..., SessionLike]


@dataclass(frozen=True)
class BuildArgs:
    task: str
    num_envs: int
    seed: int
    backend: str
    #: None: the task config's device; else checked by the session (format and availability)
    device: str | None = None
    #: an ``isaaclab:`` task's Isaac Lab-style ``key=value`` overrides, checked (:func:`parse_overrides`)
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class FrameState:
    """What a front end acts on every app frame (the viewport's render mode, whether bodies move), read without
    deriving the whole :class:`PanelState`, which only the frames that draw the panel need."""

    state: SessionState
    render_mode: RenderMode


@dataclass(frozen=True)
class PanelState:
    """Everything the window shows, as plain values."""

    state: SessionState
    state_label: str
    status_line: str
    status_is_error: bool
    # Task section
    task_inputs_enabled: bool
    build_enabled: bool
    # the Overrides field: the text the last Build used (at first panel.py's command-line overrides)
    overrides_text: str
    # Training section
    start_enabled: bool
    pause_enabled: bool
    resume_enabled: bool
    stop_enabled: bool
    progress: float
    progress_text: str
    steps_per_second_text: str
    mean_return_text: str
    episodes_text: str
    plot_values: tuple[float, ...]
    plot_min: float
    plot_max: float
    run_dir_text: str
    # the physics engine Isaac Sim runs now ("PhysX", "Newton"; "-" when unknown)
    engine_text: str
    # Rendering section
    render_mode_index: int
    render_mode: RenderMode
    # Checkpoints section (the field takes a path or a selector: "latest", "best")
    latest_checkpoint_text: str
    best_checkpoint_text: str
    load_play_enabled: bool
    play_stop_enabled: bool
    export_enabled: bool
    # Logs section
    tensorboard_command: str
    tensorboard_url: str
    # Runs and Evaluate: their own section, derived by :class:`~.runs_model.RunsModel`
    runs: RunsState = field(default_factory=RunsState)


# ----------------------------------------------------------------------------- formatting helpers


def format_int(value: int) -> str:
    """``12288`` -> ``"12,288"``."""
    return f"{int(value):,}"


def format_progress(timesteps: int, total: int) -> str:
    """``"12,288 / 1,000,448"``; just the count when no budget is known."""
    if total <= 0:
        return format_int(timesteps)
    return f"{format_int(timesteps)} / {format_int(total)}"


def format_steps_per_second(value: float) -> str:
    if not math.isfinite(value) or value <= 0.0:
        return NO_VALUE
    return f"{value:,.0f} steps/s"


def format_return(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return NO_VALUE
    return f"{value:.2f}"


def render_mode_to_label(mode: RenderMode) -> str:
    """The dropdown label of ``mode`` (``NO_GUI_OR_RENDERING`` shows as "No rendering")."""
    if mode in _RENDER_MODES:
        return RENDER_MODE_LABELS[_RENDER_MODES.index(mode)]
    return RENDER_MODE_LABELS[0]


def ui_refresh_period(mode: RenderMode) -> int:
    """Refresh the panel every N app frames: 5 in NO_RENDERING (Isaac Lab's render throttle), else 1."""
    return 5 if mode in (RenderMode.NO_RENDERING, RenderMode.NO_GUI_OR_RENDERING) else 1


def render_mode_index(mode: RenderMode) -> int:
    return RENDER_MODE_LABELS.index(render_mode_to_label(mode))


def label_to_render_mode(label: str | int) -> RenderMode:
    """Dropdown label (or index) -> :class:`RenderMode`; raises :class:`InputError` otherwise."""
    if isinstance(label, int) and not isinstance(label, bool):
        if 0 <= label < len(_RENDER_MODES):
            return _RENDER_MODES[label]
        raise InputError(f"rendering mode index must be 0..{len(_RENDER_MODES) - 1}, got {label}")
    text = str(label).strip()
    for name, mode in zip(RENDER_MODE_LABELS, _RENDER_MODES, strict=True):
        if text.lower() == name.lower() or text.upper() == mode.name:
            return mode
    raise InputError(f"unknown rendering mode '{text}'; choose one of: {', '.join(RENDER_MODE_LABELS)}")


def plot_data(history: Sequence[float], max_points: int = MAX_PLOT_POINTS) -> tuple[tuple[float, ...], float, float]:
    """Return-history -> (finite floats, at most ``max_points`` of the newest, min, max) for ``ui.Plot``.

    An empty history plots on ``[0, 1]``; a flat one gets a margin so the line is visible.
    """
    values = tuple(float(v) for v in history if v is not None and math.isfinite(float(v)))
    if len(values) > max_points:
        values = values[-max_points:]
    if not values:
        return (), 0.0, 1.0
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        pad = max(1.0, abs(lo) * 0.1)
        return values, lo - pad, hi + pad
    pad = 0.05 * (hi - lo)
    return values, lo - pad, hi + pad


def tensorboard_logdir(task: str, run_dir: str | None, log_root: str = LOG_ROOT) -> str:
    """The run folder when there is one, else the task's folder of runs (all of them; every task's if none)."""
    if run_dir:
        return str(run_dir)
    return str(task_log_root(task, log_root))


def tensorboard_command(logdir: str) -> str:
    return f"./isaaclab.sh -p -m tensorboard.main --logdir {shlex.quote(logdir)}"


# ----------------------------------------------------------------------------- input parsing


def _parse_int(text: str | int, name: str) -> int:
    """The integer typed in a field (``4,096`` and ``1_024`` accepted); its rules are checked by the caller."""
    if isinstance(text, bool):
        raise InputError(f"{name} must be an integer, got {text!r}")
    if isinstance(text, int):
        return text
    cleaned = str(text).strip().replace(",", "").replace("_", "").replace(" ", "")
    if not cleaned:
        raise InputError(f"{name} is empty; enter an integer")
    try:
        return int(cleaned)
    except ValueError:
        raise InputError(f"{name} must be an integer, got '{str(text).strip()}'") from None


def parse_num_envs(text: str | int, task: str | None = None) -> int:
    """The Environments field, by the same rule (and memory cap: ``task``'s memory per env, the cartpole's
    when none is given) as ``--num_envs`` and the session."""
    from isaaclab_trainer.tasks import DEFAULT_TASK, bytes_per_env

    per_env = bytes_per_env(task or DEFAULT_TASK)
    return check_num_envs(
        _parse_int(text, "number of environments"), name="number of environments", bytes_per_env=per_env
    )


def parse_seed(text: str | int) -> int:
    return check_seed(_parse_int(text, "seed"))


def parse_total_timesteps(text: str | int) -> int:
    return check_count(_parse_int(text, "total timesteps"), "total timesteps")


def parse_task(task: str) -> str:
    task = str(task).strip()
    if not task:
        raise InputError("no task selected")
    return check_task(task)


def parse_backend(backend: str, offered: Sequence[str]) -> str:
    """A backend name the registry accepts and this panel offers (``offered``)."""
    backend = check_backend_name(str(backend).strip().lower())
    if backend not in offered:
        raise InputError(f"physics backend '{backend}' is not offered here; choose one of: {', '.join(offered)}")
    return backend


def parse_device(device: str | None) -> str | None:
    """The Device field: empty means the task config's device (the session checks the rest)."""
    text = "" if device is None else str(device).strip()
    return text or None


def parse_overrides(text: str, task: str) -> tuple[str, ...]:
    """The Overrides field: Isaac Lab-style ``key=value`` items, split as a shell splits them (quote a path with
    spaces), checked as train.py checks its command line's (an ``isaaclab:`` task's keys and asset files, against
    its config; this package's tasks take none), before anything is built."""
    from isaaclab_trainer.tasks import check_overrides_apply, load_env_cfg, override_env_cfg

    try:
        items = tuple(shlex.split(str(text)))
    except ValueError as exc:  # shlex: "No closing quotation"
        raise InputError(f"{OVERRIDES_LABEL}: {str(exc).lower()} in '{str(text).strip()}'") from None
    try:
        check_overrides_apply(task, items)
        if items:
            override_env_cfg(load_env_cfg(task), OVERRIDES_LABEL, overrides=items)
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    return items


def takes_overrides(task: str) -> bool:
    """True for a task source's task (``isaaclab:<id>``); this package's own tasks take their values from YAML."""
    from isaaclab_trainer.tasks import OWN_SOURCE, task_source

    return task_source(task) != OWN_SOURCE


def no_best_model_line(task: str) -> str | None:
    """Why ``task``'s runs keep no ``model_best.zip`` (one line), None when they keep one or it is no task."""
    from isaaclab_trainer import tasks

    try:
        return tasks.no_best_model_line(task)
    except ConfigError:  # no task picked, or an unknown one (its Build says so)
        return None


def format_engine(engine: str | None) -> str:
    """``"newton"`` -> ``"Newton"``, ``"physx"`` -> ``"PhysX"``; ``"-"`` when there is none."""
    names = {"physx": "PhysX", "newton": "Newton"}
    return names.get(str(engine).lower(), str(engine)) if engine else NO_VALUE


def parse_build_args(
    task: str,
    num_envs: str | int,
    seed: str | int,
    backend: str,
    backends: Sequence[str],
    device: str | None = None,
    overrides: str = "",
) -> BuildArgs:
    """All Task-section fields checked before anything is built; the first problem raises a ValueError."""
    task = parse_task(task)
    return BuildArgs(
        task=task,
        num_envs=parse_num_envs(num_envs, task),
        seed=parse_seed(seed),
        backend=parse_backend(backend, backends),
        device=parse_device(device),
        overrides=parse_overrides(overrides, task),
    )


# ----------------------------------------------------------------------------- defaults (lazy, Kit-free)


def _default_session_factory(**kwargs: Any) -> SessionLike:
    from isaaclab_trainer.session.session import TrainingSession

    return TrainingSession(**kwargs)


def _default_build_args(task: str) -> BuildArgs:
    from isaaclab_trainer.tasks import load_agent_cfg, load_env_cfg

    cfg = load_env_cfg(task)
    seed = run_seed(None, load_agent_cfg(task), cfg.seed)  # the agent config's, else the task's (as train.py)
    return BuildArgs(task=task, num_envs=cfg.num_envs, seed=seed, backend=cfg.backend)


def _default_tasks() -> list[str]:
    from isaaclab_trainer.tasks import registered_tasks

    return registered_tasks()


def _default_latest_checkpoint(task: str, log_root: str) -> str | None:
    from isaaclab_trainer.session import latest_checkpoint

    return latest_checkpoint(task, log_root)


def _default_best_checkpoint(task: str, log_root: str) -> str | None:
    from isaaclab_trainer.train.runs import best_checkpoint

    found = best_checkpoint(task, log_root)
    return str(found) if found is not None else None


def _default_exporter(checkpoint: str, task: str) -> str:
    """Export ``checkpoint`` (ONNX + TorchScript + JSON, as export.py does); returns a one-line summary.

    The export runs in a process of its own: tracing in this one would disturb the loop's training or playing.
    """
    from isaaclab_trainer.train.export import export_policy_in_own_process

    result = export_policy_in_own_process(checkpoint, task)
    names = ", ".join(p.name for p in (*result.files.values(), result.metadata))
    return f"Exported {names} to {result.out_dir}"


def _default_tensorboard_launcher(logdir: str) -> str:
    """Start TensorBoard in this process (background thread) and return its URL."""
    from tensorboard import program

    tb = program.TensorBoard()
    tb.configure(argv=[None, "--logdir", logdir, "--host", "localhost"])
    return str(tb.launch())


# ----------------------------------------------------------------------------- the view-model


class PanelViewModel:
    """Owns the session of the panel and turns its status into a :class:`PanelState`.

    Args:
        session_factory: called as ``factory(task=, num_envs=, seed=, backend=, log_root=)`` and must
            return an object with the ``TrainingSession`` surface. Kit passes one that adds the live stage.
        tasks: the task ids offered, each task once (default: ``isaaclab_trainer.tasks.registered_tasks()``);
            Build accepts every id the task check does, Isaac Lab 3.0's names included.
        latest_checkpoint_fn: ``(task, log_root) -> path | None``: what "latest" (and an empty field) picks.
        best_checkpoint_fn: ``(task, log_root) -> path | None``: what "best" picks (the newest ``model_best.zip``).
        tensorboard_launcher: ``logdir -> url``.
        log_root: the folder that holds ``sb3/<task>/<run>``.
        backends: the physics backends the Task section offers (default: every registered name).
        engine_fn: ``() -> engine name`` of the physics engine the app runs now (shown in the panel; Kit
            passes Isaac Sim's, since 6.x may run PhysX or Newton).
        exporter: ``(checkpoint, task) -> summary line``, run on a worker thread by :meth:`on_export`.
        overrides: the Overrides field's first value (panel.py's command-line ``key=value`` items).
    """

    def __init__(
        self,
        session_factory: SessionFactory | None = None,
        tasks: Sequence[str] | None = None,
        latest_checkpoint_fn: Callable[[str, str], str | None] | None = None,
        best_checkpoint_fn: Callable[[str, str], str | None] | None = None,
        tensorboard_launcher: Callable[[str], str] | None = None,
        log_root: str = LOG_ROOT,
        backends: Sequence[str] | None = None,
        engine_fn: Callable[[], str] | None = None,
        exporter: Callable[[str, str], str] | None = None,
        overrides: Sequence[str] = (),
    ) -> None:
        self._factory: SessionFactory = session_factory or _default_session_factory
        self.tasks: list[str] = list(tasks) if tasks is not None else _default_tasks()
        self.backends: tuple[str, ...] = tuple(backends) if backends is not None else backend_names()
        self._engine_fn = engine_fn
        self._pick_fns = {
            LATEST: latest_checkpoint_fn or _default_latest_checkpoint,
            BEST: best_checkpoint_fn or _default_best_checkpoint,
        }
        self._tb_launcher = tensorboard_launcher or _default_tensorboard_launcher
        self.log_root = log_root
        self.session: SessionLike | None = None
        self.selected_task: str = self.tasks[0] if self.tasks else ""
        self._render_mode = RenderMode.FULL_RENDERING
        self._message = "Choose a task and press Build."
        self._is_error = False
        self._shown_over: str | None = None  # the session message an export line is shown over
        self._tb_url = ""
        self._tb_logdir = ""
        #: selector -> (what it was scanned for, what it found): re-scanned when the task or a save changes
        self._pick_cache: dict[str, tuple[tuple[str, str | None, str | None], str | None]] = {}
        #: (task, run folder) -> tensorboard_logdir's answer, for the last pair: refresh runs every frame, and a
        #: task's folder of runs is a resolved path (a file-system call)
        self._logdir_cache: tuple[tuple[str, str | None], str] | None = None
        self._no_best_cache: tuple[str, str] | None = None
        self._exporter = exporter or _default_exporter
        self._export_thread: threading.Thread | None = None
        self._export_outcome: tuple[bool, str] | None = None
        self.runs = RunsModel(log_root)
        #: the Overrides field's text Build last used (first: ``overrides``); the Runs section builds with it
        self.overrides_text = shlex.join(overrides)

    # -- helpers -------------------------------------------------------------------------------

    def _info(self, text: str) -> None:
        self._message, self._is_error, self._shown_over = text, False, None

    def _info_over_session(self, text: str) -> None:
        """Show ``text`` (news of work beside the session, e.g. an export) until the session says something new."""
        self._info(text)
        self._shown_over = self._status().message

    def _error(self, text: str) -> None:
        self._message, self._is_error = text, True

    def _fail(self, action: str, exc: BaseException) -> None:
        if isinstance(exc, UsageError):
            self._error(str(exc))
            return
        logger.exception("Isaac Lab panel: %s failed", action)
        self._error(f"{action} failed: {one_line(exc)}")

    def _status(self) -> SessionStatus:
        if self.session is None:
            return SessionStatus(task=self.selected_task, render_mode=self._render_mode)
        try:
            return self.session.status
        except Exception as exc:  # noqa: BLE001 - a broken status must not kill the UI loop
            logger.exception("Isaac Lab panel: reading session.status failed")
            return SessionStatus(state=SessionState.ERROR, task=self.selected_task, error=one_line(exc))

    def _require_session(self, action: str) -> SessionLike:
        if self.session is None:
            raise InputError(f"{action}: build the environments first (Task > Build)")
        return self.session

    def default_build_args(self) -> BuildArgs:
        """The Task section's initial values: the selected task's config, as a session given none uses."""
        return _default_build_args(self.selected_task)

    def default_total_timesteps(self) -> int | None:
        """The agent config's budget once a session exists (the Training field's default)."""
        if self.session is None:
            return None
        try:
            return int(self.session.default_total_timesteps)
        except Exception:  # noqa: BLE001
            logger.exception("Isaac Lab panel: default_total_timesteps failed")
            return None

    # -- actions (called by the window) --------------------------------------------------------

    def on_task_changed(self, task: str) -> None:
        self.selected_task = str(task)
        self._pick_cache.clear()

    def on_build(
        self,
        task: str,
        num_envs: str | int,
        seed: str | int,
        backend: str,
        device: str | None = None,
        overrides: str = "",
    ) -> bool:
        """Validate the Task fields, replace any previous session, author the envs. True on success.

        ``overrides`` is the Overrides field's text: an ``isaaclab:`` task's ``key=value`` items (this package's
        tasks refuse any, with the command line's line)."""
        try:
            args = parse_build_args(task, num_envs, seed, backend, self.backends, device, overrides)
            if self.session is not None and self._status().state in (
                SessionState.TRAINING,
                SessionState.PAUSED,
                SessionState.PLAYING,
            ):
                raise InputError("stop the running session before building again")
        except InputError as exc:
            self._fail("Build", exc)
            return False
        self.selected_task = args.task
        self._pick_cache.clear()
        self.close_session()
        fields: dict[str, Any] = {"device": args.device} if args.device is not None else {}
        if args.overrides:
            fields["overrides"] = args.overrides
        self.overrides_text = shlex.join(args.overrides)
        try:
            session = self._factory(
                task=args.task,
                num_envs=args.num_envs,
                seed=args.seed,
                backend=args.backend,
                log_root=self.log_root,
                **fields,
            )
        except Exception as exc:  # noqa: BLE001
            self._fail("Build", exc)
            return False
        self.session = session
        try:
            session.build()
            session.set_render_mode(self._render_mode)
        except Exception as exc:  # noqa: BLE001
            self._fail("Build", exc)
            return False
        self._info(f"Built {args.num_envs:,} x {args.task} ({args.backend}).")
        return True

    def on_start(self, total_timesteps: str | int) -> bool:
        try:
            total = parse_total_timesteps(total_timesteps)
            session = self._require_session("Start")
            session.start_training(total)
        except Exception as exc:  # noqa: BLE001
            self._fail("Start", exc)
            return False
        self._info(f"Training for {total:,} timesteps.")
        return True

    def _simple(self, action: str, call: Callable[[SessionLike], Any], done: str) -> bool:
        try:
            call(self._require_session(action))
        except Exception as exc:  # noqa: BLE001
            self._fail(action, exc)
            return False
        self._info(done)
        return True

    def on_pause(self) -> bool:
        return self._simple("Pause", lambda s: s.pause(), "Paused.")

    def on_resume(self) -> bool:
        return self._simple("Resume", lambda s: s.resume(), "Resumed.")

    def on_stop(self) -> bool:
        return self._simple("Stop", lambda s: s.stop(), "Stopped.")

    def on_render_mode(self, label: str | int) -> bool:
        """Switch rendering at any time (also before Build: the choice is kept for the next session)."""
        try:
            mode = label_to_render_mode(label)
            if self.session is not None:
                self.session.set_render_mode(mode)
        except Exception as exc:  # noqa: BLE001
            self._fail("Rendering mode", exc)
            return False
        self._render_mode = mode
        self._info(f"Rendering: {render_mode_to_label(mode)}.")
        return True

    def on_load_and_play(self, path: str = "") -> bool:
        """Play ``path`` (or the newest checkpoint of the task when empty) on the built envs, FULL rendering; what the
        field names is checked first (a task that keeps no best model says why, whatever is built)."""
        try:
            chosen = self._chosen_checkpoint(path, "Load & Play")
            session = self._require_session("Load & Play")
            state = self._status().state
            if state in (SessionState.TRAINING, SessionState.PAUSED):
                raise InputError("Load & Play: stop training first")
            session.set_render_mode(RenderMode.FULL_RENDERING)
            self._render_mode = RenderMode.FULL_RENDERING
            session.load_checkpoint(chosen)
            session.play()
        except Exception as exc:  # noqa: BLE001
            self._fail("Load & Play", exc)
            return False
        self._info(f"Playing {os.path.basename(chosen)}.")
        return True

    def on_export(self, path: str = "") -> bool:
        """Export ``path`` (or the task's newest checkpoint) to ``<run>/exported/`` on a worker thread.

        Loading and tracing take seconds, so the app loop keeps running; :meth:`refresh` reports the
        outcome (files written, or the one-line reason) in the status line. True if it started.
        """
        try:
            if self.exporting:
                raise InputError("Export: an export is already running")
            chosen = self._chosen_checkpoint(path, "Export")
        except InputError as exc:
            self._fail("Export", exc)
            return False
        task = self._status().task or self.selected_task
        self._export_outcome = None

        def work() -> None:
            try:
                self._export_outcome = (True, self._exporter(chosen, task))
            except ValueError as exc:  # bad input (UsageError, ConfigError): its one line as it is
                self._export_outcome = (False, str(exc))
            except Exception as exc:  # noqa: BLE001 - reported in the status line, never raised into the UI
                logger.exception("Isaac Lab panel: export failed")
                self._export_outcome = (False, f"Export failed: {one_line(exc)}")

        self._export_thread = threading.Thread(target=work, name="isaaclab-export", daemon=True)
        self._export_thread.start()
        self._info_over_session(f"Exporting {os.path.basename(chosen)} ...")
        return True

    @property
    def exporting(self) -> bool:
        """An export started by :meth:`on_export` is still running."""
        return self._export_thread is not None and self._export_thread.is_alive()

    def _collect_export(self) -> None:
        if self._export_thread is None or self._export_thread.is_alive():
            return
        self._export_thread = None
        ok, text = self._export_outcome or (False, "Export failed: no result")
        (self._info_over_session if ok else self._error)(text)

    def on_start_tensorboard(self, logdir: str | None = None) -> str:
        """Start TensorBoard once for ``logdir`` (default: the current log folder); returns the URL ("" on failure)."""
        status = self._status()
        logdir = logdir or tensorboard_logdir(status.task or self.selected_task, status.run_dir, self.log_root)
        if self._tb_url and self._tb_logdir == logdir:
            return self._tb_url
        try:
            self._tb_url = self._tb_launcher(logdir)
            self._tb_logdir = logdir
        except Exception as exc:  # noqa: BLE001
            self._fail("TensorBoard", exc)
            return ""
        self._info(f"TensorBoard at {self._tb_url}")
        return self._tb_url

    def latest_checkpoint(self) -> str | None:
        """Newest checkpoint of the selected task (``play.py --use_last_checkpoint``'s pick)."""
        return self.pick_checkpoint(LATEST)

    def best_checkpoint(self) -> str | None:
        """The selected task's newest ``model_best.zip`` (``play.py --checkpoint best``'s pick)."""
        return self.pick_checkpoint(BEST)

    def pick_checkpoint(self, selector: str) -> str | None:
        """What ``selector`` ("latest", "best") names now, re-scanned when the task or the session's saves change."""
        st = self._status() if self.session is not None else None
        key = (self.selected_task, st.last_checkpoint if st else None, st.best_checkpoint if st else None)
        cached = self._pick_cache.get(selector)
        if cached is None or cached[0] != key:
            try:
                found = self._pick_fns[selector](self.selected_task, self.log_root) if self.selected_task else None
            except Exception:  # noqa: BLE001
                logger.exception("Isaac Lab panel: checkpoint scan failed")
                found = None
            cached = (key, found)
            self._pick_cache[selector] = cached
        return cached[1]

    def _tensorboard_logdir(self, task: str, run_dir: str | None) -> str:
        if self._logdir_cache is None or self._logdir_cache[0] != (task, run_dir):
            self._logdir_cache = ((task, run_dir), tensorboard_logdir(task, run_dir, self.log_root))
        return self._logdir_cache[1]

    def _chosen_checkpoint(self, text: str, action: str) -> str:
        """The checkpoint field's path, or what its selector names (empty: "latest"); InputError if none."""
        chosen = str(text).strip() or LATEST
        if not is_selector(chosen):
            return chosen
        self._check_best(chosen, action)
        found = self.pick_checkpoint(chosen)
        if not found:
            wanted = CHECKPOINT_SELECTORS[chosen]
            raise InputError(f"{action}: no run with {wanted} for {self.selected_task}; train first or enter a path")
        return found

    # -- Runs section (the paths come from :class:`RunsModel`, the work from the actions above) ---

    def on_select_run(self, name: str) -> bool:
        try:
            run = self.runs.select(name)
        except InputError as exc:
            self._fail("Runs", exc)
            return False
        self._info(f"Selected run {run.name} ({run.state}).")
        return True

    def _idle_session(self, action: str) -> SessionLike:
        """The built session of the selected task, built now (task config's values) if there is none."""
        state = self._status().state
        if self.session is not None and state in (SessionState.TRAINING, SessionState.PAUSED, SessionState.PLAYING):
            raise InputError(f"{action}: stop what runs first (Stop)")
        if (
            self.session is None
            or state not in (SessionState.BUILT, SessionState.DONE)
            or (self._status().task != self.selected_task)
        ):
            args = self.default_build_args()
            overrides = self.overrides_text if takes_overrides(args.task) else ""
            if not self.on_build(args.task, args.num_envs, args.seed, self.backends[0], overrides=overrides):
                raise InputError(self._message)
        assert self.session is not None
        return self.session

    def _no_best_text(self) -> str:
        """The Best field's text when no ``model_best.zip`` is found: the task keeps none, or none yet."""
        if self._no_best_cache is None or self._no_best_cache[0] != self.selected_task:
            kept = no_best_model_line(self.selected_task) is None
            self._no_best_cache = (self.selected_task, "(none found)" if kept else "(none: this task keeps none)")
        return self._no_best_cache[1]

    def _check_best(self, which: str, action: str) -> None:
        """InputError saying why when ``which`` names the best checkpoint and the selected task's runs keep no
        ``model_best.zip``: the one guard of the checkpoint field's selectors and the runs section's choices."""
        line = no_best_model_line(self.selected_task) if which == BEST else None
        if line is not None:
            raise InputError(f"{action}: {line}")

    def _run_checkpoint(self, which: str, action: str) -> str:
        """The selected run's ``which`` checkpoint (newest, final or best); InputError if it has none."""
        self._check_best(which, action)
        return str(pick_checkpoint(self.runs.require_selected(action), which))

    def on_run_play(self, which: str = "newest") -> bool:
        """Load & Play the selected run's ``which`` checkpoint (newest, final or best)."""
        try:
            path = self._run_checkpoint(which, "Play")
            self._idle_session("Play")
        except InputError as exc:
            self._fail("Play", exc)
            return False
        return self.on_load_and_play(path)

    def on_run_resume(self, total_timesteps: str | int) -> bool:
        """Train on from the selected run's newest checkpoint (a new run folder, as ``train.py --checkpoint``)."""
        try:
            total = parse_total_timesteps(total_timesteps)
            path = self._run_checkpoint("newest", "Resume")
            self._idle_session("Resume").start_training(total, checkpoint=path)
        except Exception as exc:  # noqa: BLE001
            self._fail("Resume", exc)
            return False
        self.runs.rescan()
        self._info(f"Resuming from {os.path.basename(path)} for {total:,} timesteps.")
        return True

    def on_run_export(self, which: str = "newest") -> bool:
        try:
            path = self._run_checkpoint(which, "Export")
        except InputError as exc:
            self._fail("Export", exc)
            return False
        return self.on_export(path)

    def on_run_evaluate(self) -> bool:
        """Evaluate the selected run: play its newest checkpoint at Full rendering and follow each newer one."""
        try:
            run = self.runs.require_selected("Evaluate")
            session = self._idle_session("Evaluate")
            session.set_render_mode(RenderMode.FULL_RENDERING)
            self._render_mode = RenderMode.FULL_RENDERING
            session.evaluate(str(run.path))
        except Exception as exc:  # noqa: BLE001
            self._fail("Evaluate", exc)
            return False
        self._info(f"Evaluating {run.name}.")
        return True

    def on_run_tensorboard(self) -> str:
        try:
            run = self.runs.require_selected("TensorBoard")
        except InputError as exc:
            self._fail("TensorBoard", exc)
            return ""
        return self.on_start_tensorboard(str(run.path))

    # -- per frame -----------------------------------------------------------------------------

    def tick(self) -> PanelState:
        """One app frame in one call: :meth:`advance`, then :meth:`refresh`, for a front end that draws the panel
        every frame (the tests); the Kit extension and the browser app call the two themselves and refresh only on
        the frames that draw."""
        self.advance()
        return self.refresh()

    def advance(self) -> FrameState:
        """One app frame that may not draw the panel: advance the session as :meth:`tick` does, then read only
        its state and render mode (one status read); the front end calls :meth:`refresh` on the frames it draws."""
        if self.session is not None:
            self.session.update()
            st = self._status()
            return FrameState(st.state, st.render_mode)
        return FrameState(SessionState.IDLE, self._render_mode)

    def nested_tick(self) -> None:
        """An app frame run inside the front end's own frame (something it called ran the app's update: an env
        step, or an Isaac Lab env's ``sim.reset()`` during Build): nothing of the panel runs in it. A session
        stepping its envs is told; its ``update()`` refuses the nested frame and ends the run with one clear line.
        """
        if self.session is not None and self.session.stepping:
            self.session.update()

    def refresh(self) -> PanelState:
        """Read ``session.status`` once and derive every widget value."""
        self._collect_export()
        st = self._status()
        has = self.session is not None
        s = st.state if has else SessionState.IDLE
        running = s in (SessionState.TRAINING, SessionState.PAUSED, SessionState.PLAYING)
        ready = has and s in (SessionState.BUILT, SessionState.DONE)

        if s is SessionState.ERROR:
            line, is_err = (st.error or st.message or "session error"), True
        elif self._is_error:
            line, is_err = self._message, True
        elif self._shown_over is not None and st.message == self._shown_over:
            line, is_err = self._message, False
        else:
            line, is_err = (st.message or self._message), False

        line = printable(line)  # a typed value with a line break must not break the status line
        values, lo, hi = plot_data(st.return_history)
        mode = st.render_mode if has else self._render_mode
        latest, best = self.latest_checkpoint(), self.best_checkpoint()
        logdir = self._tensorboard_logdir(st.task or self.selected_task, st.run_dir)
        return PanelState(
            state=s,
            state_label=STATE_LABELS[s],
            status_line=line,
            status_is_error=is_err,
            task_inputs_enabled=not running,
            build_enabled=not running,
            overrides_text=self.overrides_text,
            start_enabled=ready,
            pause_enabled=s is SessionState.TRAINING,
            resume_enabled=s is SessionState.PAUSED,
            stop_enabled=s in (SessionState.TRAINING, SessionState.PAUSED),
            progress=st.progress,
            progress_text=format_progress(st.timesteps, st.total_timesteps),
            steps_per_second_text=format_steps_per_second(st.steps_per_second),
            mean_return_text=format_return(st.mean_return),
            episodes_text=format_int(st.episodes),
            plot_values=values,
            plot_min=lo,
            plot_max=hi,
            run_dir_text=st.run_dir or NO_VALUE,
            engine_text=self._engine_text(),
            render_mode_index=render_mode_index(mode),
            render_mode=mode,
            latest_checkpoint_text=latest or "(none found)",
            best_checkpoint_text=best or self._no_best_text(),
            load_play_enabled=ready,
            play_stop_enabled=s is SessionState.PLAYING,
            export_enabled=not self.exporting,
            tensorboard_command=tensorboard_command(logdir),
            tensorboard_url=self._tb_url,
            runs=self.runs.refresh(self.selected_task, st.evaluation, idle=not running),
        )

    def _engine_text(self) -> str:
        if self._engine_fn is None:
            return NO_VALUE
        try:
            return format_engine(self._engine_fn())
        except Exception:  # noqa: BLE001 - an engine query must not kill the UI loop
            logger.exception("Isaac Lab panel: reading the active physics engine failed")
            return NO_VALUE

    # -- teardown ------------------------------------------------------------------------------

    def close_session(self) -> None:
        if self.session is None:
            return
        session, self.session = self.session, None
        try:
            session.close()
        except Exception:  # noqa: BLE001
            logger.exception("Isaac Lab panel: closing the session failed")

    def shutdown(self) -> None:
        self.close_session()
        self.runs.close()
        if self._export_thread is not None:
            self._export_thread.join()
