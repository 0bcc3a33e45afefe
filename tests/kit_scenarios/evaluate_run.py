"""Evaluate a run that train.py writes in another process, in one real Kit process (run by tests/test_kit_real.py,
which starts train.py once the panel's envs are built and, when train.py has ended, hands over the run's summary).

Build 16 envs -> ``built`` handed off -> train.py's run in the Runs list -> Select it (running) -> Evaluate -> the
playing checkpoint's timesteps advance twice while the run's state file says running (each one ``playing``, then
``advanced``, handed off: the test keeps train.py in step) -> the run's summary handed over (``final.json``) -> the
Runs frame shows the run finished with that final return -> Stop playing.
"""

from __future__ import annotations

import json
import os
import re
import sys

import carb.settings

from isaaclab_trainer.train.runs import run_state

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import build, state, update_for  # noqa: E402

HANDOFF_SETTING = "/isaaclab_trainer_test/evaluate_handoff"
NUM_ENVS = 16
#: the longest wait on train.py (its start beside Kit, each checkpoint, its end), seconds of wall time
WAIT_S = 180
#: the newest run's row (the list is newest first); Checkpoints' Stop (of playing), Training's comes first
NEWEST_RUN, STOP_PLAYING = 0, 1
#: the playing checkpoint's stored timesteps in the Evaluate frame ("model_4096_steps.zip (4,096 timesteps)")
PLAYING_STEPS = re.compile(r"\(([\d,]+) timesteps\)")


def scenario(kit) -> None:
    res, standins = kit.result, kit.standins
    handoff = carb.settings.get_settings().get(HANDOFF_SETTING)
    ext = kit.extension()
    vm, frame = ext.view_model, ext.window.runs_frame
    widgets = frame.widgets

    def hand_off(name: str, text: str) -> None:
        """Write ``text`` to the test's file ``name``, whole (it polls for it)."""
        path = os.path.join(handoff, name)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def shown() -> str:
        """The status line and the Runs / Evaluate frames' values, for a failing wait's message."""
        values = {key: widget.text for key, widget in widgets.items() if hasattr(widget, "text")}
        return f"(status line {vm.refresh().status_line!r}; seen {seen}; {values})"

    seen: list[int] = []

    build(kit, ext, NUM_ENVS)  # the panel's own envs, as a user builds them
    hand_off("built", "")

    update_for(kit, lambda: frame.row_labels[NEWEST_RUN].text != "", WAIT_S, "train.py's run in the Runs list", shown)
    standins.click("Select", nth=NEWEST_RUN)
    update_for(kit, lambda: widgets["state_text"].text == "running", WAIT_S, "the selected run shown running", shown)
    run_dir = vm.runs.selected.path
    standins.click("Evaluate")
    update_for(kit, lambda: state(ext) == "PLAYING", 10, "Evaluate to play", shown)

    def advanced() -> bool:
        found = PLAYING_STEPS.search(widgets["playing_text"].text)
        steps = None if found is None else int(found.group(1).replace(",", ""))
        if steps is not None and (not seen or steps != seen[-1]):
            seen.append(steps)
            hand_off("playing", widgets["playing_text"].text.split(" ")[0])  # the test keeps train.py in step
        return len(seen) >= 3

    update_for(kit, advanced, WAIT_S, "the playing checkpoint to advance twice", shown)
    res["seen"] = seen
    res["run_state_at_third"] = run_state(run_dir)  # the run's own state file, read as the third one plays
    res["state_at_third"] = state(ext)
    hand_off("advanced", "")

    final_file = os.path.join(handoff, "final.json")
    update_for(kit, lambda: os.path.isfile(final_file), WAIT_S, "train.py to end (the test's final.json)", shown)
    with open(final_file, encoding="utf-8") as f:
        final = json.load(f)
    update_for(
        kit,
        lambda: all(widgets[key].text == text for key, text in final.items()),
        30,
        f"the Runs frame to show the run's end {final}",
        shown,
    )
    res["finished"] = {key: widgets[key].text for key in final}
    res["run"] = run_dir.name
    standins.click("Stop", nth=STOP_PLAYING)
    kit.update_until(lambda: state(ext) == "BUILT", max_frames=50)
