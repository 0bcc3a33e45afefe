"""play.py --video renders the scene in 3-D: the cart in the clip stands where the simulation put it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from conftest import BALANCED_MODEL, PLAY, run_script

TASK = "Isaac-Cartpole-v0"
NUM_ENVS, SHOWN, LENGTH = 8, 3, 45


def cart_x_after_each_step(checkpoint: Path) -> np.ndarray:
    """The shown envs' simulated cart positions after steps 1..LENGTH of play.py's run, replayed without video.

    CPU physics and the deterministic policy make the replay identical to the recorded run.
    """
    from isaaclab_trainer.tasks import load_env_cfg
    from isaaclab_trainer.train.checks import check_checkpoint
    from isaaclab_trainer.train.player import load_policy
    from isaaclab_trainer.train.trainer import make_env

    cfg = load_env_cfg(TASK)
    cfg.num_envs = NUM_ENVS
    env = make_env(TASK, cfg)
    try:
        player = load_policy(check_checkpoint(checkpoint), env, TASK)
        cart = env.unwrapped.backend.joint_names.index("slider_to_cart")
        xs = []
        for _ in range(LENGTH):
            player.step()
            xs.append(env.unwrapped.backend.joint_pos()[:SHOWN, cart].numpy().copy())
    finally:
        env.close()
    return np.array(xs)


def project(camera, point) -> tuple[float, float]:
    """Pixel (column, row) of a world point seen by a pinhole camera (vertical fov, Z up), computed here."""
    pos, target = np.array(camera.pos), np.array(camera.target)
    forward = (target - pos) / np.linalg.norm(target - pos)
    right = np.cross(forward, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    v = np.asarray(point) - pos
    focal = (camera.height / 2) / math.tan(math.radians(camera.fov_deg) / 2)
    depth = v @ forward
    return camera.width / 2 + focal * (v @ right) / depth, camera.height / 2 - focal * (v @ up) / depth


def cart_pixels(frame: np.ndarray) -> np.ndarray:
    """Mask of the cart's colour (light blue, lit or shaded): bluer and greener than red, not dark."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (b - r > 20) & (g - r > 8) & (r > 80)


@pytest.fixture(scope="module")
def clip(balanced_run: Path) -> tuple[Path, str]:
    res = run_script(
        PLAY,
        "--task",
        TASK,
        "--num_envs",
        str(NUM_ENVS),
        "--headless",
        "--video",
        "--video_length",
        str(LENGTH),
        "--checkpoint",
        str(balanced_run / BALANCED_MODEL),
        cwd=balanced_run.parents[3],
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    (mp4,) = (balanced_run / "videos" / "play").glob("*.mp4")
    return mp4, res.stdout


def test_play_video_is_3d_and_says_so(clip):
    mp4, stdout = clip
    assert "[INFO] Video: 3-D, first 3 env(s), 960x540, Newton ViewerGL on OpenGL" in stdout
    import imageio.v3 as iio

    frames = iio.imread(mp4)
    assert frames.shape == (LENGTH, 540, 960, 3)
    assert iio.immeta(mp4)["fps"] == 60


def test_rendered_cart_is_where_the_simulation_put_it(clip, balanced_run: Path):
    """Project the simulated cart through the camera; the cart-coloured blob there must follow it.

    Of the shown envs, the one whose cart travels farthest in the clip is checked, in the frames
    where it is farthest left and farthest right.
    """
    import imageio.v3 as iio

    from isaaclab_trainer.envs.render import cartpole_camera
    from isaaclab_trainer.sim.cartpole import CartpoleSpec
    from isaaclab_trainer.sim.scene import grid_positions
    from isaaclab_trainer.tasks import load_env_cfg

    mp4, _ = clip
    frames = iio.imread(mp4)  # frame k: the state after step k + 1 (RecordVideo starts at step 0)
    travel = cart_x_after_each_step(balanced_run / BALANCED_MODEL)
    env = int(np.argmax(np.ptp(travel, axis=0)))
    xs = travel[:, env]
    a, b = int(np.argmin(xs)), int(np.argmax(xs))
    assert xs[b] - xs[a] > 0.3, f"the carts hardly moved in the clip: {travel}"

    cfg, spec = load_env_cfg(TASK), CartpoleSpec()
    origins = grid_positions(NUM_ENVS, cfg.env_spacing)
    camera = cartpole_camera(origins[:SHOWN], cfg.cart_bounds, spec)
    ox, oy, oz = origins[env]
    predicted = {k: project(camera, (ox + xs[k], oy, oz + spec.root_height)) for k in (a, b)}
    assert abs(predicted[b][0] - predicted[a][0]) > 30  # far apart in the image, not only in metres

    window = 40  # px around a predicted point; carts of other envs are farther away than that
    for k, other in ((a, b), (b, a)):
        mask = cart_pixels(frames[k])
        rows, cols = np.nonzero(mask)
        u, v = predicted[k]
        near = (np.abs(cols - u) < window) & (np.abs(rows - v) < window)
        assert near.sum() > 100, f"no cart at the projected pixel ({u:.0f}, {v:.0f}) in frame {k}"
        cu, cv = cols[near].mean(), rows[near].mean()
        assert math.hypot(cu - u, cv - v) < 10, f"frame {k}: cart at ({cu:.0f}, {cv:.0f}), projected ({u:.0f}, {v:.0f})"
        # and it is no longer where the other frame's cart was
        ou, ov = predicted[other]
        assert ((np.abs(cols - ou) < 10) & (np.abs(rows - ov) < 10)).sum() < 20


def test_without_opengl_the_2d_drawer_runs_and_says_why():
    """No EGL vendor library, as on a machine without Mesa's EGL driver (a process of its own: EGL
    is set up once per process)."""
    import os
    import subprocess
    import sys

    code = (
        "from isaaclab_trainer.tasks import load_env_cfg\n"
        "from isaaclab_trainer.train.trainer import make_env\n"
        "cfg = load_env_cfg('Isaac-Cartpole-v0'); cfg.num_envs = 2\n"
        "env = make_env('Isaac-Cartpole-v0', cfg, render_mode='rgb_array'); env.reset()\n"
        "print(env.render().shape); env.close()\n"
    )
    env = {**os.environ, "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent.json"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "[INFO] Video: 2-D side view (no 3-D: no OpenGL through EGL: " in res.stdout
    assert "install the Debian packages libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri)" in res.stdout
    assert "(320, 640, 3)" in res.stdout


def test_without_pyglet_the_2d_drawer_runs_and_says_why(monkeypatch, capsys):
    """pyglet missing, as in a Python without the video extra (or Isaac Sim's, without newton)."""
    import sys

    from isaaclab_trainer.tasks import load_env_cfg
    from isaaclab_trainer.train.trainer import make_env

    monkeypatch.setitem(sys.modules, "pyglet", None)  # import pyglet raises ImportError
    cfg = load_env_cfg(TASK)
    cfg.num_envs = 2
    env = make_env(TASK, cfg, render_mode="rgb_array")
    try:
        env.reset()
        frame = env.render()
    finally:
        env.close()
    assert "[INFO] Video: 2-D side view (no 3-D: pyglet is not installed)" in capsys.readouterr().out
    assert frame.shape == (320, 640, 3) and (frame != frame[0, 0]).any()
