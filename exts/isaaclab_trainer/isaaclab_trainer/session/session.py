"""TrainingSession: train or play an SB3 agent one app frame at a time.

Whoever owns the app loop (Kit's update event, or a plain ``while`` loop) calls
:meth:`TrainingSession.update` once per frame. SB3's unmodified ``learn()`` runs inside
``update()``, on the calling thread, as a greenlet that gives control back when the frame's work is
done (see :mod:`.handoff`); so the simulation is only stepped there. Call the session's methods from
that same thread (Kit's main thread). Usable from Isaac Sim's Script Editor::

    from isaaclab_trainer.session import TrainingSession, RenderMode
    session = TrainingSession("Isaac-Cartpole-v0", num_envs=64)
    session.build()
    session.start_training()
    # each frame: session.update(); print(session.status.timesteps)
"""

from __future__ import annotations

import collections
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

from isaaclab_trainer.tasks import DEFAULT_TASK, bytes_per_env, load_agent_cfg, load_env_cfg, override_env_cfg
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
from isaaclab_trainer.utils import is_number, one_line

from .handoff import FrameGateCallback, LoopLearner, LoopSteppedVecEnv
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
        cfg = load_env_cfg(self.task)
        if agent_cfg is not None and not isinstance(agent_cfg, dict):
            raise ValueError(f"agent_cfg must be a mapping (dict) or None, got {agent_cfg!r}")
        self.agent_cfg = dict(agent_cfg) if agent_cfg is not None else load_agent_cfg(self.task)
        device = check_device(device) if device is not None else check_device(cfg.device, "task config device")
        check_num_envs(cfg.num_envs if num_envs is None else num_envs, device, bytes_per_env=bytes_per_env(self.task))
        seed = self.agent_cfg["seed"] = check_seed(cfg.seed if seed is None else seed)
        if not (is_number(frame_budget_ms) and 0 < frame_budget_ms < math.inf):
            raise ValueError(f"frame_budget_ms must be a number > 0, got {frame_budget_ms!r}")
        check_backend(cfg.backend if backend is None else backend)
        self.env_cfg = cfg = override_env_cfg(cfg, num_envs=num_envs, seed=seed, device=device, backend=backend)
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
        self._learner: LoopLearner | None = None
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
        self._learner = learner = LoopLearner(self._learn)
        self._setup = setup_training(
            self.env,
            self.task,
            self.env_cfg,
            self.agent_cfg,
            runs.new_run_dir(self.task, self.log_root),
            total_timesteps=total_timesteps,
            vec_env_hook=lambda venv: LoopSteppedVecEnv(venv, learner, self._record_step),
            summary_write=None,
            extra_callbacks=[FrameGateCallback(learner)],
            argv=["TrainingSession", f"task={self.task}", f"num_envs={self.env_cfg.num_envs}"],
        )
        self._setup.checkpoints.run_save = learner.off_loop
        self._reset_progress(self._setup.agent.num_timesteps if not self._setup.reset_num_timesteps else 0)
        self._state, self._message = SessionState.TRAINING, f"training, logs in {self._setup.run_dir}"

    def update(self) -> None:
        """Advance training or playing by at most one frame's work, bounded by the render mode and the
        frame budget, then return. Never raises: an error puts the session in ERROR (and the log)."""
        try:
            if self._state == SessionState.TRAINING:
                self._train_frame()
            elif self._state == SessionState.PLAYING:
                self._play_frame()
        except Exception as exc:
            self._learner = None  # an exception ends learn(); nothing is left to stop
            self._fail(exc)

    def pause(self) -> None:
        """Freeze the simulation and learning (the learner is not resumed until :meth:`resume`) or playing."""
        if self._state in (SessionState.TRAINING, SessionState.PLAYING):
            self._paused_from = self._state
            self._state, self._message = SessionState.PAUSED, "paused"

    def resume(self) -> None:
        """Go on with what :meth:`pause` froze."""
        if self._state == SessionState.PAUSED:
            self._state, self._message = self._paused_from, self._paused_from.value.lower()

    def stop(self) -> None:
        """End training (``learn()`` returns and saves ``model.zip`` with its statistics) or playing.

        Safe in any state; finishes the learner's current PPO update first.
        """
        activity = self._paused_from if self._state == SessionState.PAUSED else self._state
        if activity == SessionState.TRAINING:
            self._stop_learner()
            if self._state != SessionState.ERROR:
                self._state, self._message = SessionState.DONE, f"stopped; saved {self._final_model}"
        elif activity == SessionState.PLAYING:
            self._player = None
            self._state, self._message = SessionState.BUILT, "stopped playing"

    def set_render_mode(self, mode: RenderMode | int) -> None:
        """How much one :meth:`update` does; switching never changes what is learned."""
        try:
            self.render_mode = RenderMode(mode)
        except (ValueError, TypeError):
            accepted = ", ".join(f"RenderMode.{m.name} ({m.value})" for m in RenderMode)
            raise ValueError(f"render mode must be one of {accepted}, got {mode!r}") from None

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
        """Stop everything (saving a training run's model) and release the env."""
        self.stop()
        self._stop_learner()
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
        self._frame_steps = 0
        self._paused_from = SessionState.TRAINING
        self._faults = 0
        self._last_fault: str | None = None

    def _learn(self) -> Path:
        assert self._setup is not None
        return run_learning(self._setup)

    def _record_step(self, infos: list[Any]) -> None:
        n = self.env_cfg.num_envs
        self._timesteps += n
        self._frame_steps += 1
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

    def _train_frame(self) -> None:
        """Run the learner (env steps and PPO's gradient steps) until the frame's step limit or budget."""
        assert self._learner is not None
        self._frame_steps = 0
        self._learner.run_frame(time.perf_counter() + self.frame_budget_s, STEPS_PER_FRAME[self.render_mode])
        self._update_rate(self._frame_steps)
        if self._learner.done:
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
        assert self._learner is not None
        self._final_model = self._learner.result
        self._learner = None
        self._state, self._message = SessionState.DONE, f"done; saved {self._final_model}"

    def _stop_learner(self) -> None:
        """End ``learn()`` at its next env step (``model.zip`` is saved) and wait for it."""
        if self._learner is None:
            return
        try:
            self._learner.close()
        except Exception as exc:  # the learner failed on its way out: report it as update() does
            self._learner = None
            self._fail(exc)
            return
        self._finish_learner()

    def _fail(self, exc: BaseException) -> None:
        """ERROR with ``exc``'s one line in the status; its traceback goes to the log."""
        logger.error("TrainingSession: %s", one_line(exc), exc_info=exc)
        self._state = SessionState.ERROR
        self._error = one_line(exc)
        self._message = self._error


__all__ = ["RenderMode", "SessionState", "SessionStatus", "TrainingSession"]
