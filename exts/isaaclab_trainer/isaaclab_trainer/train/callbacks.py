"""SB3 callbacks shared by train.py and the TrainingSession."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnRewardThreshold,
)
from stable_baselines3.common.utils import safe_mean
from stable_baselines3.common.vec_env import VecEnv

from .runs import vecnormalize_path


def _fsync(path: str | os.PathLike, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(target: Path, write) -> None:
    """Call ``write(tmp_path)``, flush it to disk, then rename onto ``target``.

    Readers never see a partial file: the temporary name is hidden (``.<name>.<random>.tmp``) and
    matches no checkpoint pattern, and ``os.replace`` is atomic on one file system. A process killed
    mid-write leaves at most such a hidden temporary file behind.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent, directory=True)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_checkpoint(model: BaseAlgorithm, path: str | os.PathLike) -> Path:
    """Write ``model`` to ``path`` (a ``.zip``) and its VecNormalize statistics beside it, atomically.

    The statistics are renamed into place first, so a model file that exists always has them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vec_normalize = model.get_vec_normalize_env()
    if vec_normalize is not None:
        _atomic_write(vecnormalize_path(path), vec_normalize.save)
    # SB3 appends ".zip" only to names without a suffix; the temporary name ends in ".tmp"
    _atomic_write(path, lambda tmp: model.save(tmp))
    return path


class AtomicCheckpointCallback(CheckpointCallback):
    """SB3's CheckpointCallback (``model_<steps>_steps.zip`` every ``save_freq`` env steps), written
    atomically and always with the VecNormalize statistics."""

    def __init__(self, save_freq: int, save_path: str | os.PathLike, verbose: int = 0):
        super().__init__(save_freq=save_freq, save_path=str(save_path), name_prefix="model", verbose=verbose)
        self.last_path: Path | None = None
        #: runs each save (this callback's and the final one); the TrainingSession moves them off its loop
        self.run_save: Callable[[Callable[[], Path]], Path] = lambda save: save()

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            self.save()
            if self.verbose >= 2:
                print(f"Saving model checkpoint to {self.last_path}")
        return True

    def save(self) -> Path:
        """Write ``model_<steps>_steps.zip`` for the current step count (once: a second call at the same
        count keeps the first file)."""
        path = Path(self._checkpoint_path(extension="zip"))
        if self.last_path != path:
            self.last_path = self.run_save(lambda: save_checkpoint(self.model, path))
        return self.last_path


class _SaveOnNewBest(BaseCallback):
    """EvalCallback's ``callback_on_new_best``: save the model the way the periodic checkpoints are saved."""

    def __init__(self, path: Path, checkpoints: AtomicCheckpointCallback):
        super().__init__()
        self.path = path
        self.checkpoints = checkpoints

    def _on_step(self) -> bool:
        self.checkpoints.run_save(lambda: save_checkpoint(self.model, self.path))
        return True


class BestModelCallback(EvalCallback):
    """SB3's EvalCallback keeping ``model_best.zip``: every ``eval_freq`` env steps it plays one episode
    in each env of ``eval_env`` with the deterministic action (no exploration noise) and, on a new best
    mean return, saves the model as :class:`AtomicCheckpointCallback` does (atomically, with its
    VecNormalize statistics, through its ``run_save``). The means go to TensorBoard as ``eval/mean_reward``.

    With a ``stop_at`` (not None), SB3's StopTrainingOnRewardThreshold ends training at the first new best that
    reaches it; the stopped policy is then also written as the periodic checkpoint of that step count, so
    ``model_best.zip``, the last checkpoint and ``model.zip`` are the policy that was measured."""

    def __init__(
        self,
        eval_env: VecEnv,
        eval_freq: int,
        path: Path,
        checkpoints: AtomicCheckpointCallback,
        stop_at: float | None = None,
    ):
        on_new_best: list[BaseCallback] = [_SaveOnNewBest(path, checkpoints)]
        self.stop = StopTrainingOnRewardThreshold(stop_at) if stop_at is not None else None
        super().__init__(
            eval_env,
            callback_on_new_best=CallbackList(on_new_best + ([self.stop] if self.stop else [])),
            n_eval_episodes=eval_env.num_envs,
            eval_freq=eval_freq,
            deterministic=True,
            verbose=0,
            warn=False,  # episodes are summed from the rewards; the wrapper's "episode" infos agree
        )
        if self.stop is not None:
            self.stop.parent = self  # it reads best_mean_reward from its parent; CallbackList is not one
        self.path = path
        self.checkpoints = checkpoints
        #: timesteps at which training stopped at ``stop_at`` (None while it goes on)
        self.stopped_timesteps: int | None = None
        #: timesteps at which the saved best was measured (None until the first evaluation)
        self.best_timesteps: int | None = None
        #: wall seconds spent evaluating (and saving), to report its share of the run
        self.seconds = 0.0

    def _on_step(self) -> bool:
        if self.n_calls % self.eval_freq != 0:
            return True
        best, t0 = self.best_mean_reward, time.perf_counter()
        keep_going = super()._on_step()
        self.seconds += time.perf_counter() - t0
        if self.best_mean_reward != best:
            self.best_timesteps = self.num_timesteps
        if not keep_going:
            self.stopped_timesteps = self.num_timesteps
            self.checkpoints.save()
        return keep_going

    def stop_line(self) -> str | None:
        """One line saying training stopped at the threshold, None if it did not."""
        if self.stopped_timesteps is None:
            return None
        return (
            f"Stopped at {self.stopped_timesteps:,} timesteps: evaluation mean return {self.best_mean_reward:.3f} "
            f">= {self.stop.reward_threshold:g} (stop_at_eval_return)"
        )


class SummaryCallback(BaseCallback):
    """Print one line (timesteps, steps/s, mean episode return) every ``interval`` timesteps."""

    def __init__(self, interval: int, write=print):
        super().__init__()
        self.interval = max(1, interval)
        self.write = write
        self._next = 0
        self._t0 = 0.0
        self._n0 = 0

    def _on_training_start(self) -> None:
        self._t0, self._n0 = time.perf_counter(), self.num_timesteps
        self._next = self.num_timesteps + self.interval

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.interval
            rate = (self.num_timesteps - self._n0) / max(time.perf_counter() - self._t0, 1e-9)
            returns = [ep["r"] for ep in self.model.ep_info_buffer]
            mean = f"{safe_mean(returns):.3f}" if returns else "n/a"
            self.write(f"timesteps: {self.num_timesteps}  steps/s: {rate:,.0f}  mean return: {mean}")
        return True
