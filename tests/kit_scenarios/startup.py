"""The extension starts: its window, menu entry and update observer exist, and Kit's frames reach it."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import UPDATE_OBSERVER, update_observers  # noqa: E402


def scenario(kit) -> None:
    ext = kit.extension()
    assert ext is not None, "isaaclab_trainer is enabled but its IExt did not start"
    frames = ext._frame
    kit.update(5)
    assert ext._frame == frames + 5
    assert update_observers() == [UPDATE_OBSERVER]
