"""Panel tests inside Isaac Sim: window, Build, Start, rendering dropdown, Load & Play, Export.

Run headless with ``kit --empty --enable omni.kit.test ... --/exts/omni.kit.test/testExts/0='isaaclab_trainer'``
(full command in docs/README.md) or from Extension Manager > isaaclab_trainer > TESTS.
"""

from __future__ import annotations

import os
from typing import Any

import carb.settings
import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.ui as ui
import omni.usd
from pxr import Usd, UsdGeom

from isaaclab_trainer.kit import engines
from isaaclab_trainer.kit import extension as ext_mod
from isaaclab_trainer.kit.render import viewport_updates_enabled
from isaaclab_trainer.kit.window import WINDOW_TITLE
from isaaclab_trainer.session.status import SessionState
from isaaclab_trainer.train.runs import latest_checkpoint
from isaaclab_trainer.ui.view_model import format_engine

NUM_ENVS = 4


def _button(text: str):  # -> omni.kit.ui_test WidgetRef
    return ui_test.find(f"{WINDOW_TITLE}//Frame/**/Button[*].text=='{text}'")


def _world_pos(path: str) -> tuple[float, float, float]:
    prim = omni.usd.get_context().get_stage().GetPrimAtPath(path)
    t = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default()).ExtractTranslation()
    return float(t[0]), float(t[1]), float(t[2])


class TestIsaacLabPanel(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        await omni.usd.get_context().new_stage_async()
        await omni.kit.app.get_app().next_update_async()
        # poses written back to USD so the test can read them (Fabric-only output is invisible to pxr)
        self._settings = carb.settings.get_settings()
        self._update_to_usd = self._settings.get("/physics/updateToUsd")
        self._settings.set("/physics/updateToUsd", True)
        ext = ext_mod.get_instance()
        assert ext is not None, "isaaclab_trainer extension is not running"
        self.ext = ext
        self.ext._show_window(True)
        self.win: Any = self.ext.window
        self.vm: Any = self.ext.view_model
        await ui_test.wait_n_updates(3)

    async def tearDown(self) -> None:
        self.vm.close_session()
        self.vm.on_render_mode("Full rendering")
        await ui_test.wait_n_updates(3)
        self._settings.set("/physics/updateToUsd", self._update_to_usd)

    async def _build(self) -> None:
        self.win.num_envs_model.set_value(NUM_ENVS)
        await _button("Build").click()
        await ui_test.wait_n_updates(3)
        self.assertIsNotNone(self.vm.session, self.vm.refresh().status_line)
        self.assertEqual(self.vm.session.status.state, SessionState.BUILT, self.vm.refresh().status_line)

    async def _frames_until(self, predicate, max_frames: int) -> bool:
        for _ in range(max_frames):
            if predicate():
                return True
            await omni.kit.app.get_app().next_update_async()
        return predicate()

    async def test_window_and_menu(self) -> None:
        self.assertIsNotNone(ui.Workspace.get_window(WINDOW_TITLE))
        self.assertIsNotNone(_button("Build"))
        self.assertTrue(self.ext._is_visible())
        self.ext._toggle_window()
        await ui_test.wait_n_updates(2)
        self.assertFalse(self.ext._is_visible())
        self.ext._toggle_window()
        await ui_test.wait_n_updates(2)
        self.assertTrue(self.ext._is_visible())

    async def test_active_engine_is_shown(self) -> None:
        await ui_test.wait_n_updates(2)
        self.assertEqual(self.win.engine_label.text, format_engine(engines.active_engine()))
        self.assertEqual(self.vm.backends, ("auto", *engines.available_engines()))

    async def test_build_and_train_on_each_engine(self) -> None:
        """PhysX (5.1 and 6.x) and, where this Isaac Sim has it, Newton: Build switches to the chosen engine."""
        for engine in engines.available_engines():
            self.vm.close_session()
            self.win.backend_combo.model.get_item_value_model().set_value(self.vm.backends.index(engine))
            await self._build()
            self.assertEqual(engines.active_engine(), engine)
            self.win.total_model.set_value("100,000")
            await _button("Start").click()
            advanced = await self._frames_until(lambda: self.vm.session.status.timesteps > 0, 300)
            self.assertTrue(advanced, f"{engine}: {self.vm.refresh().status_line}")
            self.vm.on_stop()

    async def test_bad_input_shows_in_status_line(self) -> None:
        self.win.num_envs_model.set_value(0)
        await _button("Build").click()
        await ui_test.wait_n_updates(2)
        state = self.vm.refresh()
        self.assertTrue(state.status_is_error)
        self.assertIn("number of environments", state.status_line)
        self.assertIsNone(self.vm.session)

    async def test_build_creates_env_prims(self) -> None:
        await self._build()
        stage = omni.usd.get_context().get_stage()
        for i in range(NUM_ENVS):
            self.assertTrue(stage.GetPrimAtPath(f"/World/envs/env_{i}/Robot").IsValid(), f"env_{i} missing")
        self.assertFalse(stage.GetPrimAtPath(f"/World/envs/env_{NUM_ENVS}").IsValid())

    async def test_start_advances_timesteps(self) -> None:
        await self._build()
        self.win.total_model.set_value("100,000")
        await _button("Start").click()
        advanced = await self._frames_until(lambda: self.vm.session.status.timesteps > 0, 300)
        self.assertTrue(advanced, self.vm.refresh().status_line)
        self.assertIn(self.vm.session.status.state, (SessionState.TRAINING, SessionState.DONE))
        self.vm.on_stop()

    async def test_render_dropdown_switches_viewport_updates(self) -> None:
        await self._build()
        self.win.render_combo.model.get_item_value_model().set_value(0)  # "No rendering"
        await ui_test.wait_n_updates(3)
        self.assertIs(viewport_updates_enabled(), False)
        self.win.render_combo.model.get_item_value_model().set_value(2)  # "Full rendering"
        await ui_test.wait_n_updates(3)
        self.assertIs(viewport_updates_enabled(), True)

    async def test_load_and_play_moves_cartpoles(self) -> None:
        await self._build()
        task = self.vm.selected_task
        self.win.total_model.set_value("512")
        await _button("Start").click()
        done = await self._frames_until(lambda: self.vm.session.status.state is SessionState.DONE, 3000)
        self.assertTrue(done, self.vm.refresh().status_line)
        checkpoint = self.vm.session.status.last_checkpoint or latest_checkpoint(task, log_root=self.vm.log_root)
        self.assertIsNotNone(checkpoint, "training produced no checkpoint")

        self.win.render_combo.model.get_item_value_model().set_value(0)
        await ui_test.wait_n_updates(2)
        self.win.path_model.set_value(str(checkpoint))
        before = [_world_pos(f"/World/envs/env_{i}/Robot/pole") for i in range(NUM_ENVS)]
        await _button("Load & Play").click()
        await ui_test.wait_n_updates(60)
        state = self.vm.refresh()
        self.assertEqual(state.state, SessionState.PLAYING, state.status_line)
        self.assertEqual(state.render_mode_index, 2, "Load & Play must switch to Full rendering")
        self.assertIs(viewport_updates_enabled(), True)
        after = [_world_pos(f"/World/envs/env_{i}/Robot/pole") for i in range(NUM_ENVS)]
        moved = max(max(abs(a - b) for a, b in zip(p, q, strict=True)) for p, q in zip(before, after, strict=True))
        self.assertGreater(moved, 1e-4, "cartpoles did not move during Load & Play")
        self.vm.on_stop()

        # Export (a worker thread): ONNX + TorchScript + JSON beside the checkpoint's run
        await _button("Export").click()
        finished = await self._frames_until(lambda: not self.vm.exporting, 3000)
        state = self.vm.refresh()
        self.assertTrue(finished and not state.status_is_error, state.status_line)
        exported = os.path.join(os.path.dirname(str(checkpoint)), "exported")
        for name in ("policy.onnx", "policy.pt", "policy.json"):
            self.assertTrue(os.path.isfile(os.path.join(exported, name)), name)
