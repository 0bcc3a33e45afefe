"""One implementation of a training run, used by ``train.py`` and by the TrainingSession.

Flow: :func:`make_env` builds the task's batched env; :func:`setup_training` creates the run
folder, wraps the env for SB3 (optionally VecNormalize), builds or resumes the PPO agent and its
callbacks; :func:`run_learning` calls SB3's own ``learn()`` once for the whole budget and saves
``model.zip`` however it ends (budget reached, Ctrl+C or Stop). Beside the periodic checkpoints a run
keeps ``model_best.zip``, measured on envs of its own (:func:`make_eval_env`), unless the task cannot build
them beside its training envs (``TrainingSetup.no_best_model`` says why: Isaac Lab's one simulation per process).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import math
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from isaaclab_trainer import tasks
from isaaclab_trainer.sim.backends.registry import NEWTON, owns_its_stage
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

from .callbacks import AtomicCheckpointCallback, BestModelCallback, SummaryCallback, save_checkpoint
from .checkpoints import load_agent
from .checks import Checkpoint
from .runs import (
    BEST_MODEL,
    FINAL_MODEL,
    FINISHED,
    INTERRUPTED,
    RUNNING,
    release_run_dir,
    write_run_params,
    write_run_state,
)
from .sb3_cfg import AgentSettings, process_sb3_cfg

logger = logging.getLogger(__name__)


class TrainingInterrupted(Exception):
    """Raised inside ``learn()`` to end training early; the model is still saved."""


class _StopRequested(BaseCallback):
    """Ends ``learn()`` at the env step after ``stop`` is set (raises :class:`TrainingInterrupted`)."""

    def __init__(self, stop: threading.Event):
        super().__init__()
        self.stop = stop

    def _on_step(self) -> bool:
        if self.stop.is_set():
            raise TrainingInterrupted("Ctrl+C")
        return True


@contextlib.contextmanager
def _sigint_sets(stop: threading.Event) -> Iterator[None]:
    """While inside, Ctrl+C (SIGINT) sets ``stop`` instead of raising KeyboardInterrupt wherever the main
    thread is: one raised inside TensorBoard's writer queue (between its count and its notify) left that
    writer's flush on ``model.zip``'s way waiting up to its 120 s flush period, and one inside a lock or a
    save can leave it half-done. A second Ctrl+C raises KeyboardInterrupt at once, as before."""
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        stop.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class TrainingSetup:
    """Everything one ``learn()`` call needs, and where its results go."""

    agent: PPO
    vec_env: VecEnv
    callbacks: CallbackList
    checkpoints: AtomicCheckpointCallback
    #: keeps ``model_best.zip``; None when the agent config's ``eval_interval`` is 0
    best: BestModelCallback | None
    settings: AgentSettings
    run_dir: Path
    total_timesteps: int
    reset_num_timesteps: bool

    #: where the step count will stand at the end: the start plus the budget rounded up to whole rollouts
    planned_timesteps: int = 0
    #: one line saying why the run keeps no ``model_best.zip`` although its config asks for evaluations (the
    #: task's evaluation envs cannot be built: :func:`~isaaclab_trainer.tasks.no_best_model_line`); else None
    no_best_model: str | None = None


def make_env(task: str, env_cfg: Any, render_mode: str | None = None, stage: Any = None) -> gym.Env:
    """The registered env of ``task`` built from ``env_cfg`` (optionally in a given USD stage)."""
    return tasks.make_env(task, env_cfg, render_mode=render_mode, stage=stage)


def make_eval_env(task: str, env_cfg: Any, num_envs: int) -> gym.Env | None:
    """``num_envs`` envs of ``task`` that measure the policy for ``model_best.zip``: the run's env config on
    headless Newton backend, in a stage of their own (never drawn, and never the live stage: in Isaac Sim one
    engine owns it).

    None where that backend is missing: the ``newton`` package is not installed (Isaac Sim's own Python) or
    Isaac Sim's engines took its name (the Kit shell registers them); the run then keeps no best model.
    """
    if importlib.util.find_spec("newton") is None or not owns_its_stage(NEWTON):
        logger.warning("no model_best.zip for this run: its evaluation envs need the headless Newton backend")
        return None
    return make_env(task, dataclasses.replace(env_cfg, num_envs=num_envs, backend=NEWTON))


def setup_training(
    env: gym.Env,
    task: str,
    env_cfg: Any,
    agent_cfg: dict[str, Any],
    run_dir: Path,
    *,
    checkpoint: Checkpoint | None = None,
    total_timesteps: int | None = None,
    vec_env_hook: Callable[[VecEnv], VecEnv] | None = None,
    eval_env_hook: Callable[[VecEnv], VecEnv] | None = None,
    log_interval: int = 100_000,
    summary_write: Callable[[str], None] | None = print,
    extra_callbacks: list[BaseCallback] | None = None,
    argv: list[str] | None = None,
) -> TrainingSetup:
    """Fill the claimed ``run_dir`` (see :func:`~.runs.new_run_dir`) and build the agent for ``env``.

    If the agent cannot be built, an untouched ``run_dir`` is removed again (no empty run folder).

    ``vec_env_hook`` (``eval_env_hook``) lets the session put its loop hand-off between the SB3 wrapper
    and VecNormalize of the training (evaluation) envs; ``checkpoint`` (checked at the entry point)
    resumes from a saved model (step count and TensorBoard curve go on).
    """
    eval_env: gym.Env | None = None
    num_envs = env.unwrapped.num_envs
    try:
        settings, vec_env, agent = _build_agent(env, agent_cfg, checkpoint, vec_env_hook, tasks.bytes_per_env(task))
        budget = settings.n_timesteps if total_timesteps is None else int(total_timesteps)
        rollout = settings.rollout_size(num_envs)
        eval_freq = max(1, settings.eval_interval // num_envs)
        no_best = tasks.no_best_model_line(task) if settings.eval_interval > 0 else None
        if not no_best and settings.eval_interval > 0 and math.ceil(budget / rollout) * rollout >= eval_freq * num_envs:
            eval_env = make_eval_env(task, env_cfg, settings.eval_episodes)  # only if an evaluation will run
            if eval_env is None and settings.stop_at_eval_return is not None:
                logger.warning("stop_at_eval_return is not applied: this run has no evaluations")
    except BaseException:
        release_run_dir(run_dir)
        raise
    write_run_params(run_dir, env_cfg, agent_cfg, argv)
    write_run_state(run_dir, RUNNING)
    agent.set_logger(configure(str(run_dir / "PPO_1"), ["tensorboard"]))

    checkpoints = AtomicCheckpointCallback(max(1, settings.checkpoint_interval // num_envs), run_dir)
    callbacks: list[BaseCallback] = [checkpoints]
    best = None
    if eval_env is not None:
        eval_venv = _wrap(eval_env, settings, eval_env_hook, training=False)
        best = BestModelCallback(
            eval_venv, eval_freq, run_dir / BEST_MODEL, checkpoints, stop_at=settings.stop_at_eval_return
        )
        callbacks.append(best)
    if summary_write is not None:
        callbacks.append(SummaryCallback(log_interval, summary_write))
    callbacks += extra_callbacks or []
    start = 0 if checkpoint is None else agent.num_timesteps
    return TrainingSetup(
        agent=agent,
        vec_env=vec_env,
        callbacks=CallbackList(callbacks),
        checkpoints=checkpoints,
        best=best,
        settings=settings,
        run_dir=run_dir,
        total_timesteps=budget,
        reset_num_timesteps=checkpoint is None,
        planned_timesteps=start + math.ceil(budget / rollout) * rollout,
        no_best_model=no_best,
    )


def _build_agent(
    env: gym.Env,
    agent_cfg: dict[str, Any],
    checkpoint: Checkpoint | None,
    vec_env_hook: Callable[[VecEnv], VecEnv] | None,
    bytes_per_env: int,
) -> tuple[AgentSettings, VecEnv, PPO]:
    """The checked agent settings, the SB3 VecEnv stack over ``env`` and the new or resumed PPO agent."""
    settings = process_sb3_cfg(agent_cfg, env.unwrapped.num_envs, bytes_per_env=bytes_per_env)
    vec_env = _wrap(env, settings, vec_env_hook, training=True)

    if checkpoint is not None:
        agent = load_agent(checkpoint, vec_env, settings)
    else:
        agent = PPO(settings.policy, vec_env, verbose=0, **settings.ppo_kwargs)
    settings.limit_torch_threads(agent)
    return settings, vec_env, agent


def best_model_line(setup: TrainingSetup, wall_seconds: float) -> str | None:
    """One line naming the run's ``model_best.zip``, what it was measured at and what measuring cost
    (its share of ``wall_seconds``, the run's time), None if none was saved."""
    best = setup.best
    if best is None or best.best_timesteps is None:
        return None
    return (
        f"Best model (mean return {best.best_mean_reward:.3f} over {best.n_eval_episodes} episodes without "
        f"exploration noise, at {best.best_timesteps:,} timesteps; evaluations took {best.seconds:.1f} s, "
        f"{100 * best.seconds / max(wall_seconds, 1e-9):.1f} % of the run): {best.path}"
    )


def _wrap(env: gym.Env, settings: AgentSettings, hook: Callable[[VecEnv], VecEnv] | None, training: bool) -> VecEnv:
    """The SB3 VecEnv stack over ``env``: the wrapper, the hook, VecNormalize when the config asks for it
    (evaluation envs: statistics frozen, copied from the training envs before each evaluation)."""
    vec_env: VecEnv = Sb3VecEnvWrapper(env)
    if hook is not None:
        vec_env = hook(vec_env)
    if settings.normalize_input or settings.normalize_value:
        vec_env = VecNormalize(
            vec_env,
            training=training,
            norm_obs=settings.normalize_input,
            norm_reward=settings.normalize_value and training,
            clip_obs=settings.clip_obs,
            gamma=settings.ppo_kwargs.get("gamma", 0.99),
            clip_reward=math.inf,
        )
    return vec_env


def stop_line(setup: TrainingSetup) -> str | None:
    """One line saying the run stopped at the agent config's ``stop_at_eval_return``, None if it did not."""
    return None if setup.best is None else setup.best.stop_line()


def run_learning(setup: TrainingSetup, progress_bar: bool = False, ctrl_c_stops: bool = False) -> Path:
    """Run SB3's ``learn()`` for the whole budget; save ``model.zip`` even when interrupted.

    The evaluation envs of ``model_best.zip`` are closed when ``learn()`` ends. The run's state
    (``run_state.json``) becomes finished when the budget was reached or an evaluation reached
    ``stop_at_eval_return`` (then it holds :func:`stop_line` as ``stopped``), else interrupted. With
    ``ctrl_c_stops`` (train.py, on its main thread) Ctrl+C ends training at the next env step.
    """
    state = INTERRUPTED
    stop = threading.Event()
    callback = CallbackList([setup.callbacks, _StopRequested(stop)]) if ctrl_c_stops else setup.callbacks
    try:
        with _sigint_sets(stop) if ctrl_c_stops else contextlib.nullcontext():
            setup.agent.learn(
                total_timesteps=setup.total_timesteps,
                callback=callback,
                progress_bar=progress_bar,
                reset_num_timesteps=setup.reset_num_timesteps,
                log_interval=1,
            )
        state = FINISHED
    except (KeyboardInterrupt, TrainingInterrupted):
        pass
    finally:
        setup.agent.logger.close()  # flushes TensorBoard and ends its writer thread
        if setup.best is not None:
            setup.best.eval_env.close()
        if state == INTERRUPTED:  # also when learn() raised: the run is not going on
            write_run_state(setup.run_dir, INTERRUPTED)
    path = setup.checkpoints.run_save(lambda: save_checkpoint(setup.agent, setup.run_dir / FINAL_MODEL))
    if state == FINISHED:  # after model.zip: a finished run always has it
        write_run_state(setup.run_dir, FINISHED, stopped=stop_line(setup))
    return path
