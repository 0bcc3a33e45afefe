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

from isaaclab_trainer.tasks import (
    DEFAULT_TASK,
    bytes_per_env,
    load_agent_cfg,
    load_env_cfg,
    override_agent_cfg,
    override_env_cfg,
)
from isaaclab_trainer.train import runs
from isaaclab_trainer.train.checks import (
    RANDOM_SEED,
    check_backend,
    check_checkpoint,
    check_count,
    check_device,
    check_log_root,
    check_num_envs,
    check_seed,
    check_task,
    resolve_seed,
    run_seed,
)
from isaaclab_trainer.train.follow import CheckpointFollower, CheckpointWatch, Loaded, checkpoint_timesteps
from isaaclab_trainer.train.player import (
    DetachedPolicy,
    PolicyPlayer,
    attach,
    evaluate,
    load_detached,
    load_policy,
    warm_up,
)
from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
from isaaclab_trainer.train.trainer import TrainingSetup, make_env, run_learning, setup_training, stop_line
from isaaclab_trainer.utils import is_number, one_line

from .handoff import FrameGateCallback, LoopLearner, LoopSteppedVecEnv
from .status import EvaluationStatus, RenderMode, SessionState, SessionStatus

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
#: most points of the return history kept (older ones are merged pairwise, so a long run keeps its shape)
HISTORY_POINTS = 400
#: Evaluate switches to a newer checkpoint when an episode ends, or after this many seconds at most
SWITCH_WAIT_S = 0.5
#: what a re-entered update() logs and the session's ERROR says: an env step ran the app's own update loop
#: (in Isaac Sim ``omni.kit.app.get_app().update()``, which Kit runs in full, update observers included)
REENTRY_ERROR = (
    "update() was called again from inside an env step (the env ran the app's update, e.g. "
    "omni.kit.app.get_app().update()); the nested call was refused and the session stopped. Let the session's "
    "render modes draw the envs, not the env's own app updates (an Isaac Lab env: no Kit visualizer or RTX "
    "camera rendering every step, and keep Isaac Sim's timeline playing; its render_enabled is already False)"
)


class BoundedCurve:
    """A curve of at most ``limit`` points: when full, neighbouring points are averaged pairwise.

    Appending is O(1) amortized and :meth:`values` returns the same tuple until the next append, so a
    status read every frame copies nothing however long the run.
    """

    def __init__(self, limit: int = HISTORY_POINTS) -> None:
        self.limit = limit
        self._points: list[float] = []
        self._stride, self._pending, self._pending_n = 1, 0.0, 0
        self._values: tuple[float, ...] = ()

    def append(self, value: float) -> None:
        self._pending += value
        self._pending_n += 1
        if self._pending_n < self._stride:
            return
        self._points.append(self._pending / self._pending_n)
        self._pending, self._pending_n = 0.0, 0
        if len(self._points) >= self.limit:
            pairs = zip(self._points[0::2], self._points[1::2], strict=False)
            self._points = [(a + b) / 2 for a, b in pairs]
            self._stride *= 2
        self._values = tuple(self._points)

    def values(self) -> tuple[float, ...]:
        return self._values


def latest_checkpoint(task: str, log_root: str | os.PathLike = runs.LOG_ROOT) -> str | None:
    """The newest run's checkpoint with the most steps, as ``play.py --use_last_checkpoint`` finds it."""
    found = runs.latest_checkpoint(task, log_root, use_last_checkpoint=True)
    return str(found) if found is not None else None


class TrainingSession:
    """Build a task's envs, train PPO on them or play a checkpoint, driven by :meth:`update`.

    Inputs are checked at construction (``ValueError`` with a clear message). ``num_envs``, ``backend`` and
    ``device`` default to the task's config (``config/tasks/<task>.yaml``); ``seed`` to the agent config's, else
    the task config's (Isaac Lab's rule, as train.py), and it is the env's and the agent's. ``overrides`` are an
    ``isaaclab:`` task's Isaac Lab-style ``key=value`` overrides (``env.scene.robot.spawn.usd_path=/path/robot.usd``).
    ``stage`` is the USD stage to author the envs into (Isaac Sim's live stage in the panel; a new in-memory stage
    when None).
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
        overrides: tuple[str, ...] = (),
    ):
        self.task = check_task(task)
        cfg = load_env_cfg(self.task)
        if agent_cfg is not None and not isinstance(agent_cfg, dict):
            raise ValueError(f"agent_cfg must be a mapping (dict) or None, got {agent_cfg!r}")
        overrides = tuple(overrides)
        agent_cfg = dict(agent_cfg) if agent_cfg is not None else load_agent_cfg(self.task)
        self.agent_cfg = override_agent_cfg(self.task, agent_cfg, overrides)
        device = check_device(device) if device is not None else check_device(cfg.device, "task config device")
        check_num_envs(cfg.num_envs if num_envs is None else num_envs, device, bytes_per_env=bytes_per_env(self.task))
        asked = run_seed(seed, self.agent_cfg, cfg.seed)  # seed, else the agent config's, as train.py
        seed = self.agent_cfg["seed"] = resolve_seed(check_seed(asked))  # -1: drawn, recorded in params/
        #: " (seed -1: drew N)" when the seed was drawn, for the status line; else ""
        self._drawn_note = f" (seed -1: drew {seed})" if asked == RANDOM_SEED else ""
        if self._drawn_note:
            logger.info("Random seed (-1): drew seed %d", seed)
        if not (is_number(frame_budget_ms) and 0 < frame_budget_ms < math.inf):
            raise ValueError(f"frame_budget_ms must be a number > 0, got {frame_budget_ms!r}")
        check_backend(cfg.backend if backend is None else backend)
        self.env_cfg = cfg = override_env_cfg(
            cfg, num_envs=num_envs, seed=seed, device=device, backend=backend, overrides=overrides or None
        )
        check_log_root(log_root)
        # reject a bad agent config now
        self._settings = process_sb3_cfg(self.agent_cfg, cfg.num_envs, bytes_per_env=bytes_per_env(self.task))
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
        self._follower: CheckpointFollower[DetachedPolicy] | None = None
        #: True while the session steps its envs (inside update(), or stop() ending learn()); see :attr:`stepping`
        self._stepping = False
        self._reentered = False
        self._reset_progress(0)

    # -- properties ----------------------------------------------------------------------------

    @property
    def default_total_timesteps(self) -> int:
        """The agent config's training budget (``n_timesteps``)."""
        return self._settings.n_timesteps

    @property
    def stepping(self) -> bool:
        """True while the session steps its envs (inside :meth:`update`, or :meth:`stop` ending ``learn()``).

        An :meth:`update` meanwhile can only come from inside an env step (the env ran the app's update): it is
        refused. A front end checks this before it runs anything of its own in such a nested app update.
        """
        return self._stepping

    @property
    def status(self) -> SessionStatus:
        """A snapshot for the UI; cheap, safe to read every frame."""
        total = self._setup.planned_timesteps if self._setup is not None else 0
        checkpoint = None
        if self._setup is not None and self._setup.checkpoints.last_path is not None:
            checkpoint = str(self._setup.checkpoints.last_path)
        if self._final_model is not None:
            checkpoint = str(self._final_model)
        best = self._setup.best if self._setup is not None else None
        has_best = best is not None and best.best_timesteps is not None
        return SessionStatus(
            state=self._state,
            task=self.task,
            num_envs=self.env_cfg.num_envs,
            render_mode=self.render_mode,
            timesteps=self._timesteps,
            total_timesteps=total,
            steps_per_second=self._rate,
            mean_return=sum(self._returns) / len(self._returns) if self._returns else None,
            return_history=self._history.values(),
            episodes=self._episodes,
            run_dir=str(self._setup.run_dir) if self._setup is not None else None,
            last_checkpoint=checkpoint,
            best_checkpoint=str(best.path) if has_best else None,
            best_return=best.best_mean_reward if has_best else None,
            message=self._message,
            error=self._error,
            faults=self._faults,
            last_fault=self._last_fault,
            evaluation=self._evaluation_status(),
        )

    def _evaluation_status(self) -> EvaluationStatus | None:
        if self._eval_run is None:
            return None
        playing = self._player.checkpoint.name if self._player is not None else None
        return EvaluationStatus(
            run_dir=str(self._eval_run),
            checkpoint=playing,
            checkpoint_timesteps=self._eval_steps if playing is not None else None,
            points=tuple((steps, total / n) for steps, (total, n) in self._eval_points.items()),
            found_at=self._found_at,
            loaded_at=self._loaded_at,
            first_frame_at=self._first_frame_at,
            following=self._follower is not None,
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
        self._apply_render_mode()
        self._state, self._message = SessionState.BUILT, f"built {self.env_cfg.num_envs} envs{self._drawn_note}"

    def start_training(self, total_timesteps: int | None = None, checkpoint: str | os.PathLike | None = None) -> None:
        """Create the run folder and start SB3's ``learn()`` (resuming ``checkpoint`` when given, as
        ``train.py --checkpoint``: a new run folder, the step count goes on); progress happens in :meth:`update`."""
        if self._state not in (SessionState.BUILT, SessionState.DONE) or self.env is None:
            raise RuntimeError(f"start_training() needs a built session, state is {self._state.value}")
        if total_timesteps is not None:
            check_count(total_timesteps, "total_timesteps")
        resumed = check_checkpoint(checkpoint, self.task) if checkpoint is not None else None
        self._player = None
        self._close_follower()
        self._learner = learner = LoopLearner(self._learn)
        self._setup = setup_training(
            self.env,
            self.task,
            self.env_cfg,
            self.agent_cfg,
            runs.new_run_dir(self.task, self.log_root),
            checkpoint=resumed,
            total_timesteps=total_timesteps,
            vec_env_hook=lambda venv: LoopSteppedVecEnv(venv, learner, self._record_step),
            eval_env_hook=lambda venv: LoopSteppedVecEnv(venv, learner, lambda _infos: None, step_kind="eval"),
            summary_write=None,
            extra_callbacks=[FrameGateCallback(learner)],
            argv=["TrainingSession", f"task={self.task}", f"num_envs={self.env_cfg.num_envs}"],
        )
        self._setup.checkpoints.run_save = learner.off_loop
        self._reset_progress(self._setup.agent.num_timesteps if not self._setup.reset_num_timesteps else 0)
        no_best = f"; {self._setup.no_best_model}" if self._setup.no_best_model is not None else ""
        self._state, self._message = SessionState.TRAINING, f"training, logs in {self._setup.run_dir}{no_best}"

    def update(self) -> None:
        """Advance training or playing by at most one frame's work, bounded by the render mode and the
        frame budget, then return. Never raises: an error puts the session in ERROR (and the log).

        Called again while it runs (an env step ran the app's update, whose handler calls this), the nested
        call does nothing but log :data:`REENTRY_ERROR` once; the running update() then ends training (saving
        ``model.zip``) or playing and puts the session in ERROR with that line.
        """
        if self._stepping:
            self._refuse_reentry()
            return
        try:
            self._stepping = True
            if self._state == SessionState.TRAINING:
                self._train_frame()
            elif self._state == SessionState.PLAYING:
                self._play_frame()
        except Exception as exc:
            self._learner = None  # an exception ends learn(); nothing is left to stop
            self._fail(exc)
        finally:
            self._stepping = False
        if self._reentered and self._state != SessionState.ERROR:
            self.stop()

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

        Safe in any state but one; finishes the learner's current PPO update first. From inside an env step (a
        click handled by an app update that the env ran) it raises ``RuntimeError``: it would drive the learner
        from inside the learner.
        """
        activity = self._paused_from if self._state == SessionState.PAUSED else self._state
        if activity == SessionState.TRAINING:
            self._stop_learner()
            if self._state != SessionState.ERROR:
                self._state, self._message = SessionState.DONE, f"stopped; {self._saved_text()}"
        elif activity == SessionState.PLAYING:
            self._player, self._eval_run = None, None
            self._close_follower()
            self._state, self._message = SessionState.BUILT, "stopped playing"
        if self._reentered and self._state != SessionState.ERROR:  # what ran went on to its end; say why
            saved = f"; {self._saved_text()}" if self._final_model is not None else ""
            self._fail_line(f"{REENTRY_ERROR}{saved}")

    def set_render_mode(self, mode: RenderMode | int) -> None:
        """How much one :meth:`update` does, and how often an env that renders its own sim (an Isaac Lab env)
        renders it: once per frame's steps (:data:`STEPS_PER_FRAME`); switching never changes what is learned."""
        try:
            self.render_mode = RenderMode(mode)
        except (ValueError, TypeError):
            accepted = ", ".join(f"RenderMode.{m.name} ({m.value})" for m in RenderMode)
            raise ValueError(f"render mode must be one of {accepted}, got {mode!r}") from None
        self._apply_render_mode()

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Load an SB3 checkpoint (and its VecNormalize statistics when present) to :meth:`play`."""
        if self.env is None or self._state not in (SessionState.BUILT, SessionState.DONE):
            raise RuntimeError(
                f"load_checkpoint() needs a built session that is not running, state is {self._state.value}"
            )
        checkpoint = check_checkpoint(path, self.task)
        self._player = load_policy(checkpoint, self.env, self.task)
        self._close_follower()
        self._reset_progress(0)
        self._message = f"loaded {path}"

    def play(self) -> None:
        """Run the loaded policy deterministically, one frame's worth per :meth:`update`."""
        if self._player is None:
            raise RuntimeError("no checkpoint loaded; call load_checkpoint(path) first")
        if self._state not in (SessionState.BUILT, SessionState.DONE) or self._learner is not None:
            raise RuntimeError(f"play() needs a built session that is not training, state is {self._state.value}")
        self._state, self._message = SessionState.PLAYING, f"playing {self._player.checkpoint}"

    def evaluate(self, run_dir: str | os.PathLike) -> None:
        """Play the newest checkpoint of ``run_dir`` (written by another process) and switch to each newer
        one that lands, at the next episode end (at most :data:`SWITCH_WAIT_S` later); state PLAYING.

        The run folder is watched and each new checkpoint loaded on a thread of its own
        (:class:`~isaaclab_trainer.train.follow.CheckpointFollower`); a frame only swaps in a loaded one.

        Every switch resets the envs, so each episode is played by one checkpoint; the mean return of each
        checkpoint's episodes is in ``status.evaluation.points``. Until a first checkpoint lands the
        session waits (and says so). Raises UsageError when ``run_dir`` is not a run folder.
        """
        if self.env is None or self._state not in (SessionState.BUILT, SessionState.DONE):
            raise RuntimeError(f"evaluate() needs a built session that is not running, state is {self._state.value}")
        watch = CheckpointWatch(run_dir, self.task)
        self._close_follower()
        self._reset_progress(0)
        self._player, self._eval_run = None, watch.run_dir
        task = self.task
        self._follower = CheckpointFollower(
            watch, lambda checkpoint: load_detached(checkpoint, task), prepare=lambda: warm_up(task)
        )
        self._state = SessionState.PLAYING
        self._message = f"evaluating {watch.run_dir.name}: waiting for its first checkpoint"

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
        self._close_follower()
        if self._state != SessionState.ERROR:
            self._state = SessionState.IDLE

    # -- internals -------------------------------------------------------------------------------

    def _apply_render_mode(self) -> None:
        """Tell an env that renders its own sim while it steps (``set_render_interval``: an Isaac Lab env) to render
        once per frame's env steps in the render mode, never without rendering; this package's envs draw nothing
        while stepping (the front end draws them), so they have no such method."""
        set_interval = getattr(self.env, "set_render_interval", None)
        if set_interval is not None:
            set_interval(STEPS_PER_FRAME[self.render_mode])

    def _reset_progress(self, start_timesteps: int) -> None:
        self._timesteps = start_timesteps
        self._returns: collections.deque[float] = collections.deque(maxlen=RETURN_WINDOW)
        self._history = BoundedCurve()
        self._episodes = 0
        self._rate = 0.0
        self._rate_window: collections.deque[tuple[float, int]] = collections.deque(maxlen=120)
        self._final_model: Path | None = None
        self._steps_since_point = 0
        self._frame_steps = 0
        self._paused_from = SessionState.TRAINING
        self._faults = 0
        self._last_fault: str | None = None
        self._eval_run: Path | None = None
        self._eval_points: dict[int, list[float]] = {}  # checkpoint timesteps -> [sum of returns, episodes]
        self._eval_steps = 0
        self._pending: Loaded[DetachedPolicy] | None = None
        self._episode_ended = False
        self._found_at: float | None = None
        self._loaded_at: float | None = None
        self._first_frame_at: float | None = None

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
        if self._follower is not None:
            self._follow()
        if self._player is None:  # Evaluate waits for a first checkpoint
            return
        player, before = self._player, self._player.steps
        deadline = time.perf_counter() + self.frame_budget_s
        returns, _ = evaluate(player, steps=STEPS_PER_FRAME[self.render_mode], until=deadline)
        steps = player.steps - before
        self._timesteps += steps * self.env_cfg.num_envs
        self._returns.extend(returns)
        self._episodes += len(returns)
        self._update_rate(steps)
        if self._eval_run is not None:
            point = self._eval_points.setdefault(self._eval_steps, [0.0, 0])
            point[0] += sum(returns)
            point[1] += len(returns)
            if not point[1]:
                del self._eval_points[self._eval_steps]
            self._episode_ended = bool(returns)
            if self._first_frame_at is None and steps:
                self._first_frame_at = time.time()

    def _follow(self) -> None:
        """Evaluate: take the newest checkpoint the follower loaded and switch to it when it is time."""
        assert self._follower is not None
        follower = self._follower
        if follower.deleted:
            self._close_follower()
            left = f"playing {self._player.checkpoint.name}" if self._player is not None else "nothing to play"
            self._message = f"run folder {follower.watch.run_dir.name} was deleted; {left}"
            return
        ready = follower.take()
        if ready is not None:
            self._pending = ready
        elif follower.problem is not None:
            self._message = follower.problem
        pending = self._pending
        if pending is None:
            return
        waited = time.time() - pending.loaded_at >= SWITCH_WAIT_S
        if self._player is None or self._episode_ended or waited:
            self._switch(pending)

    def _switch(self, loaded: Loaded[DetachedPolicy]) -> None:
        assert self.env is not None and self._eval_run is not None
        self._pending = None
        self._player, self._eval_steps = attach(loaded.value, self.env), checkpoint_timesteps(loaded.checkpoint)
        self._found_at, self._loaded_at = loaded.found_at, loaded.loaded_at
        self._episode_ended, self._first_frame_at = False, None
        run, name = self._eval_run.name, loaded.checkpoint.path.name
        self._message = f"evaluating {run}: playing {name} ({self._eval_steps:,} timesteps)"

    def _close_follower(self) -> None:
        if self._follower is not None:
            self._follower.close()
        self._follower, self._pending = None, None

    def _finish_learner(self) -> None:
        assert self._learner is not None
        self._final_model = self._learner.result
        self._learner = None
        stopped = stop_line(self._setup) if self._setup is not None else None
        why = "" if stopped is None else f"{stopped[0].lower()}{stopped[1:]}; "  # at the agent config's threshold
        self._state, self._message = SessionState.DONE, f"done; {why}{self._saved_text()}"

    def _saved_text(self) -> str:
        """What the run left: its ``model.zip`` and, when one was measured, its ``model_best.zip``."""
        best = self.status.best_checkpoint
        if best is None:
            return f"saved {self._final_model}"
        return f"saved {self._final_model}; best (mean return {self.status.best_return:.2f}): {best}"

    def _stop_learner(self) -> None:
        """End ``learn()`` at its next env step (``model.zip`` is saved) and wait for it."""
        if self._learner is None:
            return
        if self._stepping:  # e.g. a Stop click handled by an app update that an env step ran
            raise RuntimeError("the session cannot stop from inside its own env step; stop it between app updates")
        try:
            self._stepping = True
            self._learner.close()
        except Exception as exc:  # the learner failed on its way out: report it as update() does
            self._learner = None
            self._fail(exc)
            return
        finally:
            self._stepping = False
        self._finish_learner()

    def _refuse_reentry(self) -> None:
        """An update() inside update(): log it once (with the stack that called it), change nothing."""
        if not self._reentered:
            logger.error("TrainingSession: %s", REENTRY_ERROR, stack_info=True)
        self._reentered = True

    def _fail(self, exc: BaseException) -> None:
        """ERROR with ``exc``'s one line in the status; its traceback goes to the log."""
        logger.error("TrainingSession: %s", one_line(exc), exc_info=exc)
        self._fail_line(one_line(exc))

    def _fail_line(self, line: str) -> None:
        self._state = SessionState.ERROR
        self._error = self._message = line


__all__ = ["RenderMode", "SessionState", "SessionStatus", "TrainingSession"]
