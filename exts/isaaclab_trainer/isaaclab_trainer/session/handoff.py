"""Hand env calls from SB3's learner thread to the thread that owns the app loop.

SB3's ``learn()`` runs unmodified on a learner thread. Its VecEnv is :class:`LoopSteppedVecEnv`,
whose ``reset``/``step`` post a request and wait; the loop thread runs the request inside
``TrainingSession.update()`` (where the stage and the physics may be touched) and hands the
result back. While SB3 optimizes, no request is pending and the loop simply returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from isaaclab_trainer.train.trainer import TrainingInterrupted


class LoopHandoff:
    """A one-slot rendezvous: the learner :meth:`call`\\ s, the loop :meth:`serve`\\ s."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._request: tuple[Callable[[], Any], str] | None = None
        self._result: tuple[bool, Any] | None = None
        self._closed = False
        #: seconds the last served request took to run (not counting the wait for it)
        self.last_run_s = 0.0
        #: False while the learner optimizes (no env request can come): the loop need not wait
        self.collecting = True

    # -- learner thread --------------------------------------------------------------------

    def call(self, fn: Callable[[], Any], kind: str) -> Any:
        """Run ``fn`` on the loop thread and return its result (re-raising its exception)."""
        with self._cv:
            if self._closed:
                raise TrainingInterrupted("training stopped")
            self._request, self._result = (fn, kind), None
            self._cv.notify_all()
            self._cv.wait_for(lambda: self._result is not None or self._closed)
            if self._result is None:
                self._request = None
                raise TrainingInterrupted("training stopped")
            ok, value = self._result
            self._result = None
        if not ok:
            raise value
        return value

    # -- loop thread -----------------------------------------------------------------------

    def serve(self, timeout: float, idle_timeout: float = 0.0) -> tuple[str, Any] | None:
        """Run the pending request (waiting up to ``timeout`` s for one); returns ``(kind, result)``.

        While the learner optimizes (no request can come soon) it waits ``idle_timeout`` at most.

        Returns None when nothing was asked in time. An exception of the request is handed to the
        learner and raised here too, so the caller can report it.
        """
        with self._cv:
            wait = timeout if self.collecting else min(timeout, idle_timeout)
            if not self._cv.wait_for(lambda: self._request is not None or self._closed, wait) or self._closed:
                return None
            fn, kind = self._request  # type: ignore[misc]
            self._request = None
        started = time.perf_counter()
        try:
            value = fn()
        except BaseException as exc:
            with self._cv:
                self._result = (False, exc)
                self._cv.notify_all()
            raise
        self.last_run_s = time.perf_counter() - started
        with self._cv:
            self._result = (True, value)
            self._cv.notify_all()
        return kind, value

    def close(self) -> None:
        """Wake the learner; its current and later calls raise :class:`TrainingInterrupted`."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()


class RolloutPhaseCallback(BaseCallback):
    """Tells the hand-off when SB3 collects rollouts (env calls come) and when it optimizes (none)."""

    def __init__(self, handoff: LoopHandoff):
        super().__init__()
        self.handoff = handoff

    def _on_rollout_start(self) -> None:
        self.handoff.collecting = True

    def _on_rollout_end(self) -> None:
        self.handoff.collecting = False

    def _on_training_end(self) -> None:
        self.handoff.collecting = True

    def _on_step(self) -> bool:
        return True


class LoopSteppedVecEnv(VecEnvWrapper):
    """A VecEnv whose ``reset`` and ``step`` run on the loop thread through a :class:`LoopHandoff`."""

    def __init__(self, venv: VecEnv, handoff: LoopHandoff):
        super().__init__(venv)
        self.handoff = handoff
        self._actions: np.ndarray | None = None

    def reset(self) -> VecEnvObs:
        return self.handoff.call(self.venv.reset, "reset")

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        return self.handoff.call(lambda: self.venv.step(self._actions), "step")
