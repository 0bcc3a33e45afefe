"""Clicks that arrive on other threads (viser's), queued for the app's frame loop: panel.py's thread or Kit's update."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class ActionQueue:
    """Clicks that arrive on other threads, run on the app's loop by :meth:`run_pending` (one guard each)."""

    def __init__(self) -> None:
        self._actions: queue.SimpleQueue[Callable[[], Any]] = queue.SimpleQueue()

    def post(self, action: Callable[[], Any]) -> None:
        """Queue ``action`` for the loop (callable from any thread)."""
        self._actions.put(action)

    def run_pending(self) -> None:
        """Run every queued action, in order; one that raises is logged and the rest still run."""
        while True:
            try:
                action = self._actions.get_nowait()
            except queue.Empty:
                return
            try:
                action()
            except Exception:  # noqa: BLE001 - a broken click must not end the loop
                logger.exception("Isaac Lab panel: action failed")
