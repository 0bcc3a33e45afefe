"""What Newton's viewers need from the Newton backend: visual shapes, a ground plane and each env's grid place."""

from __future__ import annotations

import numpy as np
import torch
from pxr import Usd

from isaaclab_trainer.sim.backends.newton_backend import NewtonBackend
from isaaclab_trainer.sim.cartpole import CartpoleSpec
from isaaclab_trainer.sim.scene import build_scene, grid_positions


def test_model_has_the_boxes_ground_and_env_origins() -> None:
    stage = Usd.Stage.CreateInMemory()
    build_scene(stage, 5, env_spacing=4.0)
    backend = NewtonBackend(stage, num_envs=5, physics_dt=1.0 / 120.0)
    model = backend.model
    spec = CartpoleSpec()

    np.testing.assert_allclose(backend.env_origins, np.asarray(grid_positions(5, 4.0), dtype=np.float32))
    worlds = model.shape_world.numpy()
    assert sorted(np.bincount(worlds[worlds >= 0]).tolist()) == [3] * 5  # rail, cart, pole per env
    assert (worlds == -1).sum() == 1  # the ground plane, shared
    # the boxes keep the USD sizes (Newton stores half extents) and carry no mass of their own
    half = np.sort(model.shape_scale.numpy()[:3], axis=0)
    want = np.sort(np.asarray([spec.rail_size, spec.cart_size, spec.pole_size]) / 2, axis=0)
    np.testing.assert_allclose(half, want, rtol=1e-6)
    np.testing.assert_allclose(model.body_mass.numpy()[:3], [spec.rail_mass, spec.cart_mass, spec.pole_mass])

    # the state's body poses follow the joints (what a viewer's log_state draws)
    backend.write_joint_state(torch.arange(5), torch.tensor([[0.5, 0.0]]).repeat(5, 1), torch.zeros(5, 2))
    body_q = backend.state.body_q.numpy().reshape(5, 3, 7)
    np.testing.assert_allclose(body_q[:, 1, 0], 0.5, atol=1e-6)  # every cart moved +0.5 m along x
