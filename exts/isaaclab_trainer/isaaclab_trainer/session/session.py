"""TrainingSession: train or play an SB3 agent one app frame at a time.

Whoever owns the app loop (Kit's update event, or a plain ``while`` loop) calls
:meth:`TrainingSession.update` once per frame. The simulation is only stepped inside ``update()``,
on the calling thread; SB3's unmodified ``learn()`` runs on a learner thread that waits for it
(see :mod:`.handoff`). Usable from Isaac Sim's Script Editor::

    from isaaclab_trainer.session import TrainingSession, RenderMode
    session = TrainingSession("Isaac-Cartpole-v0", num_envs=64)
    session.build()
    session.start_training()
    # each frame: session.update(); print(session.status.timesteps)
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

from isaaclab_trainer.tasks import DEFAULT_TASK, load_agent_cfg, load_env_cfg
from isaaclab_trainer.train import runs
from isaaclab_trainer.train.checks import (
    check_backend,
    check_checkpoint,
    check_count,
    check_device,
    check_log_root,
    check_num_envs,
    check_seed,
    check_task,
)
from isaaclab_trainer.train.player import PolicyPlayer, load_policy
from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
from isaaclab_trainer.train.trainer import TrainingSetup, make_env, run_learning, setup_training
from isaaclab_trainer.utils import one_line

from .handoff import LoopHandoff, LoopSteppedVecEnv, RolloutPhaseCallback
from .status import RenderMode, SessionState, SessionStatus

logger = logging.getLogger(__name__)

#: env steps one update() runs at most, per render mode (None: as many as fit in the frame budget)
STEPS_PER_FRAME: dict[RenderMode, int | None] = {
    RenderMode.FULL_RENDERING: 1,
    RenderMode.PARTIAL_RENDERING: 4,
    RenderMode.NO_RENDERING: None,
    RenderMode.NO_GUI_OR_RENDERING: None,
}
#: wall-clock work one update() does at most in NO_RENDERING, by default
FRAME_BUDGET_MS = 30.0
RETURN_WINDOW = 100  # episodes in the mean return, as SB3's ep_info_buffer
JOIN_TIMEOUT_S = 1.5
#: update() calls closer together than this come from a loop with no frame pacing of its own
SPIN_GAP_S = 0.001


def latest_checkpoint(task: str, log_root: str | os.PathLike = runs.LOG_ROOT) -> str | None:
    """The newest run's checkpoint with the most steps, as ``play.py --use_last_checkpoint`` finds it."""
    found = runs.latest_checkpoint(task, log_root, use_last_checkpoint=True)
    return str(found) if found is not None else None


class TrainingSession:
    """Build a task's envs, train PPO on them or play a checkpoint, driven by :meth:`update`.

    Inputs are checked at construction (``ValueError`` with a clear message). ``num_envs``, ``seed``,
    ``backend`` and ``device`` default to the task's config (``config/tasks/<task>.yaml``); the
    seed is the agent's too. ``stage`` is the USD stage to author the envs into (Isaac Sim's live
    stage in the panel; a new in-memory stage when None).
    """

    def __init__(
        self,
        task: str = DEFAULT_TASK,
        num_envs: int | None = None,
        seed: int | None = None,
        backend: str | None = None,
        device: str | None = None,
        log_root: str | os.PathLike = runs.LOG_ROOT,
        agent_cfg: dict[str, Any] | None = None,
        frame_budget_ms: float = FRAME_BUDGET_MS,
        stage: Any = None,
    ):
        self.task = check_task(task)
        self.env_cfg = cfg = load_env_cfg(self.task)
        self.agent_cfg = dict(agent_cfg) if agent_cfg is not None else load_agent_cfg(self.task)
        if device is not None:
            cfg.device = check_device(device)
        if num_envs is not None:
            cfg.num_envs = num_envs
        check_num_envs(cfg.num_envs, cfg.device)
        cfg.seed = self.agent_cfg["seed"] = check_seed(cfg.seed if seed is None else seed)
        if not frame_budget_ms > 0:
            raise ValueError(f"frame_budget_ms must be > 0, got {frame_budget_ms!r}")
        if backend is not None:
            cfg.backend = backend
        check_backend(cfg.backend)
        check_log_root(log_root)
        self._settings = process_sb3_cfg(self.agent_cfg, cfg.num_envs)  # reject a bad agent config now
        self.log_root = Path(log_root)
        self.frame_budget_s = frame_budget_ms / 1000.0
        self.stage = stage

        self.render_mode = RenderMode.FULL_RENDERING
        self._state = SessionState.IDLE
        self._error: str | None = None
        self._message = ""
        self.env: gym.Env | None = None
        self._setup: TrainingSetup | None = None
        self._handoff: LoopHandoff | None = None
        self._learner: threading.Thread | None = None
        self._learner_error: str | None = None
        self._log_lock = threading.Lock()
        self._logged_error: BaseException | None = None
        self._player: PolicyPlayer | None = None
        self._reset_progress(0)

    # -- properties ----------------------------------------------------------------------------

    @property
    def default_total_timesteps(self) -> int:
        """The agent config's training budget (``n_timesteps``)."""
        return self._settings.n_timesteps

    @property
    def status(self) -> SessionStatus:
        """A snapshot for the UI; cheap, safe to read every frame."""
        total = self._setup.planned_timesteps if self._setup is not None else 0
        checkpoint = None
        if self._setup is not None and self._setup.checkpoints.last_path is not None:
            checkpoint = str(self._setup.checkpoints.last_path)
        if self._final_model is not None:
            checkpoint = str(self._final_model)
        return SessionStatus(
            state=self._state,
            task=self.task,
            num_envs=self.env_cfg.num_envs,
            render_mode=self.render_mode,
            timesteps=self._timesteps,
            total_timesteps=total,
            steps_per_second=self._rate,
            mean_return=sum(self._returns) / len(self._returns) if self._returns else None,
            return_history=tuple(self._history),
            episodes=self._episodes,
            run_dir=str(self._setup.run_dir) if self._setup is not None else None,
            last_checkpoint=checkpoint,
            message=self._message,
            error=self._error,
            faults=self._faults,
            last_fault=self._last_fault,
        )

    # -- life cycle ------------------------------------------------------------------------------

    def build(self) -> None:
        """Build the vectorized env (authored into ``stage``); state becomes BUILT."""
        if self.env is not None:
            raise RuntimeError("the session is already built; close() it and create a new one")
        try:
            self.env = make_env(self.task, self.env_cfg, stage=self.stage)
        except Exception as exc:
            self._fail(exc)
            raise
        self._state, self._message = SessionState.BUILT, f"built {self.env_cfg.num_envs} envs"

    def start_training(self, total_timesteps: int | None = None) -> None:
        """Create the run folder and start SB3's ``learn()``; progress happens in :meth:`update`."""
        if self._state not in (SessionState.BUILT, SessionState.DONE) or self.env is None:
            raise RuntimeError(f"start_training() needs a built session, state is {self._state.value}")
        self._player = None
        if total_timesteps is not None:
            check_count(total_timesteps, "total_timesteps")
        self._handoff = handoff = LoopHandoff()
        self._setup = setup_training(
            self.env,
            self.task,
            self.env_cfg,
            self.agent_cfg,
            runs.new_run_dir(self.task, self.log_root),
            total_timesteps=total_timesteps,
            vec_env_hook=lambda venv: LoopSteppedVecEnv(venv, handoff),
            summary_write=None,
            extra_callbacks=[RolloutPhaseCallback(handoff)],
            argv=["TrainingSession", f"task={self.task}", f"num_envs={self.env_cfg.num_envs}"],
        )
        self._reset_progress(self._setup.agent.num_timesteps if not self._setup.reset_num_timesteps else 0)
        self._learner_error = None
        self._learner = threading.Thread(target=self._learn, name="isaaclab-trainer-learner", daemon=True)
        self._state, self._message = SessionState.TRAINING, f"training, logs in {self._setup.run_dir}"
        self._learner.start()

    def update(self) -> None:
        """Advance training or playing by at most one frame's work, bounded by the render mode and the
        frame budget, then return. Never raises: an error puts the session in ERROR (and the log)."""
        try:
            if self._state == SessionState.TRAINING:
                self._serve_learner()
            elif self._state == SessionState.PLAYING:
                self._play_frame()
        except Exception as exc:
            self._fail(exc)
            self._shutdown_learner(timeout=JOIN_TIMEOUT_S)

    def pause(self) -> None:
        """Freeze the simulation and learning (the learner waits for its next env step) or playing."""
        if self._state in (SessionState.TRAINING, SessionState.PLAYING):
            self._paused_from = self._state
            self._state, self._message = SessionState.PAUSED, "paused"

    def resume(self) -> None:
        """Go on with what :meth:`pause` froze."""
        if self._state == SessionState.PAUSED:
            self._state, self._message = self._paused_from, self._paused_from.value.lower()

    def stop(self) -> None:
        """End training (``learn()`` returns and saves ``model.zip`` with its statistics) or playing.

        Safe in any state; waits for the learner to finish its current gradient update.
        """
        activity = self._paused_from if self._state == SessionState.PAUSED else self._state
        if activity == SessionState.TRAINING:
            self._shutdown_learner(timeout=None)
            if self._state != SessionState.ERROR:
                self._state, self._message = SessionState.DONE, f"stopped; saved {self._final_model}"
        elif activity == SessionState.PLAYING:
            self._player = None
            self._state, self._message = SessionState.BUILT, "stopped playing"

    def set_render_mode(self, mode: RenderMode | int) -> None:
        """How much one :meth:`update` does; switching never changes what is learned."""
        self.render_mode = RenderMode(mode)

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Load an SB3 checkpoint (and its VecNormalize statistics when present) to :meth:`play`."""
        if self.env is None or self._state not in (SessionState.BUILT, SessionState.DONE):
            raise RuntimeError(
                f"load_checkpoint() needs a built session that is not running, state is {self._state.value}"
            )
        checkpoint = check_checkpoint(path, self.task)
        self._player = load_policy(checkpoint, self.env, self.task)
        self._reset_progress(0)
        self._message = f"loaded {path}"

    def play(self) -> None:
        """Run the loaded policy deterministically, one frame's worth per :meth:`update`."""
        if self._player is None:
            raise RuntimeError("no checkpoint loaded; call load_checkpoint(path) first")
        if self._state not in (SessionState.BUILT, SessionState.DONE) or self._learner is not None:
            raise RuntimeError(f"play() needs a built session that is not training, state is {self._state.value}")
        self._state, self._message = SessionState.PLAYING, f"playing {self._player.checkpoint}"

    def latest_checkpoint(self, task: str | None = None) -> str | None:
        """The checkpoint ``play.py --use_last_checkpoint`` would pick for ``task`` (default: ours)."""
        return latest_checkpoint(task or self.task, self.log_root)

    def close(self) -> None:
        """Stop everything (saving a training run's model), join the learner thread, release the env."""
        self.stop()
        self._shutdown_learner(timeout=None)
        if self.env is not None:
            self.env.close()
            self.env = None
        self._player = None
        if self._state != SessionState.ERROR:
            self._state = SessionState.IDLE

    # -- internals -------------------------------------------------------------------------------

    def _reset_progress(self, start_timesteps: int) -> None:
        self._timesteps = start_timesteps
        self._returns: collections.deque[float] = collections.deque(maxlen=RETURN_WINDOW)
        self._history: list[float] = []
        self._episodes = 0
        self._rate = 0.0
        self._rate_window: collections.deque[tuple[float, int]] = collections.deque(maxlen=120)
        self._final_model: Path | None = None
        self._steps_since_point = 0
        self._step_s = 0.0
        self._paused_from = SessionState.TRAINING
        self._last_return_s = 0.0
        self._faults = 0
        self._last_fault: str | None = None

    def _learn(self) -> None:
        assert self._setup is not None
        try:
            self._final_model = run_learning(self._setup)
        except Exception as exc:
            self._log_error(exc)
            self._learner_error = one_line(exc)

    def _record_step(self, infos: list[Any]) -> None:
        n = self.env_cfg.num_envs
        self._timesteps += n
        for info in infos:
            episode = info.get("episode") if info else None
            if episode is not None:
                self._returns.append(float(episode["r"]))
                self._episodes += 1
            fault = info.get("fault") if info else None
            if fault is not None:  # non-finite action/observation/reward: the env was reset
                self._faults += 1
                self._last_fault = fault
        self._steps_since_point += 1
        assert self._setup is not None  # only the learner's steps are recorded
        if self._steps_since_point >= self._setup.agent.n_steps and self._returns:
            self._history.append(sum(self._returns) / len(self._returns))
            self._steps_since_point = 0

    def _update_rate(self, steps: int) -> None:
        now = time.perf_counter()
        self._rate_window.append((now, steps))
        t0 = self._rate_window[0][0]
        if now - t0 > 0:
            self._rate = sum(s for _, s in list(self._rate_window)[1:]) * self.env_cfg.num_envs / (now - t0)

    def _serve_learner(self) -> None:
        """Run the learner's env requests until the frame's step limit or budget is reached.

        No request is started that could not finish in time (the last one must fit, and so must the
        wait for the GIL once the learner thread holds it: one interpreter switch interval), except
        the frame's first when it is already waiting: every frame makes progress.
        """
        assert self._handoff is not None
        started = time.perf_counter()
        # While SB3 optimizes, an app that paces its own frames gets update() back at once. A caller
        # that calls again straight away (a bare while loop) is made to wait instead: spinning would
        # hog the GIL the learner needs.
        spinning = started - self._last_return_s < SPIN_GAP_S
        deadline = started + self.frame_budget_s - sys.getswitchinterval()
        limit = STEPS_PER_FRAME[self.render_mode]
        steps = 0
        while limit is None or steps < limit:
            remaining = deadline - self._step_s - time.perf_counter()
            if remaining <= 0:
                if steps:
                    break
                # a request already waiting is served in any case: else one request slower than the
                # budget (a loaded machine) would keep the estimate above it and stall training for good
                remaining = 0.0
            served = self._handoff.serve(remaining, idle_timeout=remaining if spinning else 0.0)
            if served is None:
                break
            kind, result = served
            # a decaying maximum of the cost of one request: quick to rise, slow to forget
            self._step_s = max(self._handoff.last_run_s, 0.95 * self._step_s)
            if kind == "step":
                steps += 1
                self._record_step(result[3])
        self._update_rate(steps)
        self._last_return_s = time.perf_counter()
        if self._learner is not None and not self._learner.is_alive():
            self._finish_learner()

    def _play_frame(self) -> None:
        assert self._player is not None
        deadline = time.perf_counter() + self.frame_budget_s
        limit = STEPS_PER_FRAME[self.render_mode]
        steps = 0
        while (limit is None or steps < limit) and time.perf_counter() < deadline:
            for r, _ in self._player.step():
                self._returns.append(r)
                self._episodes += 1
            self._timesteps += self.env_cfg.num_envs
            steps += 1
        self._update_rate(steps)

    def _finish_learner(self) -> None:
        self._learner = None
        if self._learner_error is not None:
            self._state, self._error = SessionState.ERROR, self._learner_error
            self._message = self._error
        else:
            self._state, self._message = SessionState.DONE, f"done; saved {self._final_model}"

    def _shutdown_learner(self, timeout: float | None) -> None:
        """Close the hand-off and join the learner (``timeout`` None: until it has ended).

        The learner's pending or next env call raises :class:`TrainingInterrupted`, so ``learn()``
        returns and ``model.zip`` is saved; after an env error it ends with that error instead.
        """
        if self._handoff is not None:
            self._handoff.close()
        if self._learner is not None:
            self._learner.join(timeout=timeout)
            if not self._learner.is_alive():
                self._finish_learner()

    def _log_error(self, exc: BaseException) -> None:
        """Log ``exc`` with its traceback, once: an env error reaches both the loop and the learner thread."""
        with self._log_lock:
            if exc is self._logged_error:
                return
            self._logged_error = exc
        logger.error("TrainingSession: %s", one_line(exc), exc_info=exc)

    def _fail(self, exc: BaseException) -> None:
        """ERROR with ``exc``'s one line in the status; its traceback goes to the log."""
        self._log_error(exc)
        self._state = SessionState.ERROR
        self._error = one_line(exc)
        self._message = self._error


__all__ = ["RenderMode", "SessionState", "SessionStatus", "TrainingSession"]
