"""Disable the extension through Kit's extension manager (nothing may be left behind), then enable it again."""

from __future__ import annotations

import os
import sys

import carb.settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import UPDATE_OBSERVER, assert_nothing_left, disable, enable, snapshot, update_observers  # noqa: E402


def scenario(kit) -> None:
    before = snapshot(kit)
    assert kit.extension() is not None
    kit.update(3)
    disable(kit)
    kit.result["leftovers"] = assert_nothing_left(
        kit, carb.settings.get_settings().get("/exts/isaaclab_trainer/log_root"), before["threads"]
    )
    enable(kit)
    assert update_observers() == [UPDATE_OBSERVER]
