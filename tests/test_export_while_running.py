"""Export from the panel while its loop trains or plays, as a user clicks Export mid-run: both go on.

torch.onnx's exporter traces with torch.fx, which replaces ``torch.nn.Module.__call__`` for its whole process
while it runs; the panel's export therefore traces in a process of its own (``export_policy_in_own_process``).
Here the real session trains and plays on the test's thread (the app loop) while real exports run.
"""

from __future__ import annotations

import time
from pathlib import Path

from isaaclab_trainer.session.status import SessionState
from isaaclab_trainer.ui.view_model import PanelViewModel

TASK = "Isaac-Cartpole-v0"
#: exports per activity: each traces the policy through torch.onnx and torch.jit while the loop runs it
EXPORTS = 2
FRAME_S = 1 / 120  # the loop's pause between frames, as an app's frame pacing leaves the CPU to others


def export_while_looping(vm: PanelViewModel, model: Path, activity: SessionState) -> None:
    """Click Export ``EXPORTS`` times, ticking the loop (the session's training or playing) until each is done."""
    for n in range(EXPORTS):
        before = vm.session.status.timesteps
        assert vm.on_export(str(model)), vm.refresh().status_line
        frames = 0
        while vm.exporting:
            state = vm.tick()
            assert state.state is activity, f"export {n + 1}: {state.state.value}: {state.status_line}"
            frames += 1
            time.sleep(FRAME_S)
        state = vm.tick()  # the export's outcome
        assert state.state is activity and not state.status_is_error, state.status_line
        assert state.status_line == f"Exported policy.onnx, policy.pt, policy.json to {model.parent / 'exported'}"
        assert frames > 0 and vm.session.status.timesteps > before  # the loop went on during the export


def test_export_never_disturbs_training_or_playing(tmp_path: Path) -> None:
    vm = PanelViewModel(tasks=[TASK], log_root=str(tmp_path))
    assert vm.on_build(TASK, "16", "1", "auto"), vm.refresh().status_line
    assert vm.on_start("2048")
    while vm.tick().state is not SessionState.DONE:
        assert vm.session.status.state is SessionState.TRAINING, vm.refresh().status_line
    model = Path(vm.session.status.run_dir) / "model.zip"
    assert model.is_file()

    assert vm.on_start("100000000")  # a run that no export outlasts
    export_while_looping(vm, model, SessionState.TRAINING)
    assert vm.on_stop() and vm.tick().state is SessionState.DONE

    assert vm.on_load_and_play(str(model)), vm.refresh().status_line
    export_while_looping(vm, model, SessionState.PLAYING)
    assert vm.on_stop()
    vm.shutdown()
