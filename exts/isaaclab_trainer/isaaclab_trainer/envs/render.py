"""CPU rendering of the envs for videos (``render_mode="rgb_array"``), from the simulated joint state.

* :class:`SceneRenderer3D` (the default): Newton's ``ViewerGL`` in headless mode draws the first few
  envs in 3-D, lit and shadowed, from the scene's own USD shapes (rail, cart, pole, ground) at their
  places in the stage, posed by the simulated joint positions. It needs OpenGL, which Mesa provides
  on the CPU through EGL (llvmpipe): no GPU and no display.
* :func:`render_cartpoles`, the fallback when no OpenGL can be had: a flat side view, each of the
  first envs in a horizontal band.

:func:`make_renderer` picks one and prints which.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from isaaclab_trainer.sim.cartpole import JOINT_NAMES
from isaaclab_trainer.sim.scene import ENVS_PATH

#: how many envs a clip shows (the first ones), and its size: Isaac Lab's viewer has 1280x720, but Mesa's
#: software rasterizer takes about twice as long per frame for it
VIDEO_ENVS = 3
#: Debian packages that give Mesa's software OpenGL through EGL (what isaaclab.sh -i and CI install)
GL_PACKAGES = ("libegl1", "libegl-mesa0", "libgl1", "libgl1-mesa-dri")
VIDEO_SIZE = (960, 540)
#: vertical field of view [deg] (ViewerGL's default) and the direction from the scene to the camera:
#: in front of the rails (-y), a little to their +x side and above, so the carts slide across the
#: image and the envs behind the first show above it
FOV_DEG = 45.0
VIEW_DIRECTION = (0.25, -1.0, 0.45)


class FrameRenderer(Protocol):
    """``renderer(joint_pos, root_pose)`` -> an ``(H, W, 3)`` uint8 frame; ``joint_pos`` is ``(num_envs, num_dofs)``,
    ``root_pose`` ``(num_envs, 7)`` for floating robots (else None)."""

    description: str

    def __call__(self, joint_pos: np.ndarray, root_pose: np.ndarray | None = None) -> np.ndarray: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CameraPose:
    """A pinhole camera at ``pos`` looking at ``target`` (Z up); ``fov_deg`` is vertical."""

    pos: tuple[float, float, float]
    target: tuple[float, float, float]
    fov_deg: float
    width: int
    height: int

    @property
    def pitch_yaw_deg(self) -> tuple[float, float]:
        """ViewerGL's angles for this view: pitch above the horizon, yaw from +x towards +y."""
        d = np.subtract(self.target, self.pos)
        d = d / np.linalg.norm(d)
        return math.degrees(math.asin(float(d[2]))), math.degrees(math.atan2(float(d[1]), float(d[0])))


def frame_envs(
    origins: Sequence[Sequence[float]],
    box_center: Sequence[float],
    box_half: Sequence[float],
    size: tuple[int, int] = VIDEO_SIZE,
    fov_deg: float = FOV_DEG,
    direction: Sequence[float] = VIEW_DIRECTION,
    fill: float = 0.92,
) -> CameraPose:
    """The nearest camera looking from ``direction`` whose image holds every env's box
    (``origin + box_center ± box_half``), the farthest corner at ``fill`` of the half-width or half-height."""
    centers = np.asarray(origins, dtype=np.float64) + np.asarray(box_center, dtype=np.float64)
    half = np.asarray(box_half, dtype=np.float64)
    corners = np.array([c + half * (2 * np.array(s) - 1) for c in centers for s in np.ndindex(2, 2, 2)])
    target = 0.5 * (corners.min(axis=0) + corners.max(axis=0))
    width, height = size
    tan_y = math.tan(math.radians(fov_deg) / 2.0)
    tan_x = tan_y * width / height
    back = np.asarray(direction, dtype=np.float64) / np.linalg.norm(direction)
    right = np.cross(-back, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    up = np.cross(right, -back)

    def extent(distance: float) -> float:  # how much of the image the farthest corner reaches
        v = corners - (target + distance * back)
        depth = v @ -back
        return float(max(np.max(np.abs(v @ right) / (depth * tan_x)), np.max(np.abs(v @ up) / (depth * tan_y))))

    near, far = float(np.max(np.linalg.norm(corners - target, axis=1))), 1e3
    for _ in range(60):  # bisection: extent() falls as the camera backs away
        mid = 0.5 * (near + far)
        near, far = (mid, far) if extent(mid) > fill else (near, mid)
    pos = target + far * back
    return CameraPose(
        (float(pos[0]), float(pos[1]), float(pos[2])),
        (float(target[0]), float(target[1]), float(target[2])),
        fov_deg,
        width,
        height,
    )


def cartpole_camera(origins: Sequence[Sequence[float]], cart_bounds: float, spec: Any) -> CameraPose:
    """The video camera for cartpoles at ``origins``: each cart's whole travel and its upright pole in view."""
    half = (cart_bounds + spec.cart_size[0] / 2, spec.pole_offset_y + spec.cart_size[1] / 2, spec.pole_length / 2 + 0.2)
    center = (0.0, 0.0, spec.root_height + spec.pole_length / 2 - 0.1)
    return frame_envs(origins, center, half)


class SceneRenderer3D:
    """The first ``num_shown`` envs of a stage drawn by Newton's ViewerGL (headless, offscreen).

    A small render-only Newton model is built from the stage with visual shapes: env_0's robot
    replicated at the first envs' places in the stage, plus the stage's ground. Each frame copies the
    simulated joint positions of those envs into it (matched by joint name), and for a floating robot its
    root pose (env frame), runs forward kinematics and renders, so whichever backend simulates, the clip
    shows its state.
    """

    def __init__(
        self,
        stage: Any,
        env_paths: Sequence[str],
        joint_names: Sequence[str],
        camera: Callable[[list[tuple[float, float, float]]], CameraPose],
        size: tuple[int, int] = VIDEO_SIZE,
        ground_path: str = "/World/ground",
    ):
        import pyglet

        pyglet.options["headless"] = True  # EGL, no X display (before pyglet opens any window)
        import warp as wp

        wp.config.quiet = True
        import newton
        from newton.viewer import ViewerGL

        from isaaclab_trainer.sim.backends.newton_backend import FREE_COORDS, dof_names, has_free_root
        from isaaclab_trainer.sim.scene import env_origins

        self.origins = [tuple(float(c) for c in o) for o in env_origins(stage, env_paths)]
        robot = newton.ModelBuilder()
        robot.add_usd(
            stage,
            root_path=f"{env_paths[0]}/Robot",
            xform=wp.transform(wp.vec3(*(-c for c in self.origins[0])), wp.quat_identity()),
            enable_self_collisions=False,
            load_visual_shapes=True,
        )
        # a floating root (free joint, first) owns the first 7 coordinates of each world: the root pose
        self._root_coords = FREE_COORDS if has_free_root(robot) else 0
        # the render model's dof order by name (one coordinate per revolute/prismatic axis, named as the backend)
        self._columns = [list(joint_names).index(name) for name in dof_names(robot)]
        builder = newton.ModelBuilder()
        builder.replicate(
            robot,
            copy_count=len(env_paths),
            xforms=[wp.transform(wp.vec3(*o), wp.quat_identity()) for o in self.origins],
        )
        if stage.GetPrimAtPath(ground_path).IsValid():
            builder.add_usd(stage, root_path=ground_path, load_visual_shapes=True)
        self.model = builder.finalize(device="cpu")
        self.state = self.model.state()
        self._eval_fk = newton.eval_fk
        self.camera = camera(self.origins)
        self.viewer = ViewerGL(width=size[0], height=size[1], headless=True)
        try:
            self.viewer.set_model(self.model)
            self.viewer.set_world_offsets((0.0, 0.0, 0.0))  # the worlds already stand where the stage has them
            pitch, yaw = self.camera.pitch_yaw_deg
            self.viewer.set_camera(pos=wp.vec3(*self.camera.pos), pitch=pitch, yaw=yaw)
            self.viewer.camera.fov = self.camera.fov_deg
            gl_renderer = pyglet.gl.gl_info.get_renderer()
        except BaseException:
            self.viewer.close()
            raise
        self._time = 0.0
        self.description = (
            f"3-D, first {len(env_paths)} env(s), {size[0]}x{size[1]}, Newton ViewerGL on OpenGL ({gl_renderer})"
        )

    def __call__(self, joint_pos: np.ndarray, root_pose: np.ndarray | None = None) -> np.ndarray:
        n = len(self.origins)
        q = np.asarray(joint_pos, dtype=np.float32)[:n][:, self._columns]
        if self._root_coords:  # the root pose in the env frame, placed at the env's origin
            root = np.array(root_pose, dtype=np.float32)[:n]
            root[:, :3] += np.asarray(self.origins, dtype=np.float32)
            q = np.concatenate((root, q), axis=1)
        self.state.joint_q.assign(q.reshape(-1))
        self._eval_fk(self.model, self.state.joint_q, self.state.joint_qd, self.state)
        self.viewer.begin_frame(self._time)
        self.viewer.log_state(self.state)
        self.viewer.end_frame()
        self._time += 1.0 / 60.0
        return self.viewer.get_frame().numpy()

    def close(self) -> None:
        self.viewer.close()


class SideView2D:
    """The fallback: :func:`render_cartpoles` of the first envs (cart and pole columns by name)."""

    def __init__(self, joint_names: Sequence[str], cart_bounds: float, pole_length: float, cart_size, reason: str):
        self._cart, self._pole = (list(joint_names).index(n) for n in JOINT_NAMES)
        self._args = (cart_bounds, pole_length, cart_size)
        self.description = f"2-D side view (no 3-D: {reason})"

    def __call__(self, joint_pos: np.ndarray) -> np.ndarray:
        q = np.asarray(joint_pos)
        bounds, length, cart = self._args
        return render_cartpoles(q[:, self._cart], q[:, self._pole], bounds, pole_length=length, cart_size=cart)

    def close(self) -> None:
        pass


def make_renderer(
    stage: Any,
    num_envs: int,
    joint_names: Sequence[str],
    cart_bounds: float,
    spec: Any,
    envs_path: str = ENVS_PATH,
) -> FrameRenderer:
    """The 3-D renderer of the first :data:`VIDEO_ENVS` envs, else (no OpenGL, no Newton) the 2-D one.

    Prints one ``[INFO] Video: ...`` line saying which.
    """
    shown = [f"{envs_path}/env_{i}" for i in range(min(num_envs, VIDEO_ENVS))]
    try:
        return _announce(SceneRenderer3D(stage, shown, joint_names, lambda o: cartpole_camera(o, cart_bounds, spec)))
    except ImportError as exc:  # e.g. inside Isaac Sim, whose Python has no newton
        reason = f"{exc.name or exc} is not installed"
    except Exception as exc:  # noqa: BLE001 - no EGL/OpenGL driver, or one that cannot give a context
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        reason = f"no OpenGL through EGL: {first}; install the Debian packages {' '.join(GL_PACKAGES)}"
    cart_size = (spec.cart_size[0], spec.cart_size[2])
    return _announce(SideView2D(joint_names, cart_bounds, spec.pole_length, cart_size, reason))


def make_renderer_3d(
    stage: Any,
    num_envs: int,
    joint_names: Sequence[str],
    center: tuple[float, float, float],
    half_extent: tuple[float, float, float],
    envs_path: str = ENVS_PATH,
) -> FrameRenderer:
    """The 3-D renderer of the first :data:`VIDEO_ENVS` envs, each framed around ``center`` (+-``half_extent``)
    of its env (tasks without a 2-D fallback); RuntimeError saying what to install when OpenGL is missing."""
    shown = [f"{envs_path}/env_{i}" for i in range(min(num_envs, VIDEO_ENVS))]
    try:
        return _announce(SceneRenderer3D(stage, shown, joint_names, lambda o: frame_envs(o, center, half_extent)))
    except ImportError as exc:
        raise RuntimeError(f"3-D video needs {exc.name or exc} (the headless and video extras)") from exc
    except Exception as exc:  # noqa: BLE001 - no EGL/OpenGL driver, or one that cannot give a context
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise RuntimeError(
            f"no OpenGL through EGL: {first}; install the Debian packages {' '.join(GL_PACKAGES)}"
        ) from exc


def _announce(renderer: FrameRenderer) -> FrameRenderer:
    """Say on stdout which renderer draws the clips (users see why a clip is flat)."""
    print(f"[INFO] Video: {renderer.description}", flush=True)
    return renderer


WIDTH, BAND_HEIGHT = 640, 160
SKY, RAIL, CART, POLE, LIMIT = (235, 240, 245), (90, 90, 90), (40, 110, 200), (230, 140, 30), (200, 60, 60)


def _fill_rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int]) -> None:
    h, w = img.shape[:2]
    xa, xb = sorted((int(round(x0)), int(round(x1))))
    ya, yb = sorted((int(round(y0)), int(round(y1))))
    img[max(ya, 0) : min(yb + 1, h), max(xa, 0) : min(xb + 1, w)] = color


def _draw_segment(img: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], width: int, color) -> None:
    n = int(max(abs(p1[0] - p0[0]), abs(p1[1] - p0[1]))) + 1
    for t in np.linspace(0.0, 1.0, n):
        x = p0[0] + t * (p1[0] - p0[0])
        y = p0[1] + t * (p1[1] - p0[1])
        _fill_rect(img, x - width / 2, y - width / 2, x + width / 2, y + width / 2, color)


def render_cartpoles(
    cart_pos: np.ndarray,
    pole_angle: np.ndarray,
    cart_bounds: float,
    pole_length: float = 1.0,
    cart_size: tuple[float, float] = (0.5, 0.2),
    max_envs: int = 3,
) -> np.ndarray:
    """An ``(H, 640, 3)`` uint8 image of the first ``max_envs`` envs (angle 0 = pole up, + tilts to +x)."""
    n = min(max_envs, len(cart_pos))
    img = np.empty((BAND_HEIGHT * n, WIDTH, 3), dtype=np.uint8)
    img[:] = SKY
    half_span = cart_bounds + pole_length + 0.3
    scale = WIDTH / (2 * half_span)  # pixels per metre
    for i in range(n):
        top = i * BAND_HEIGHT
        rail_y = top + BAND_HEIGHT * 0.8
        cx = WIDTH / 2 + float(cart_pos[i]) * scale
        _fill_rect(img, 0, rail_y - 1, WIDTH - 1, rail_y + 1, RAIL)
        for bound in (-cart_bounds, cart_bounds):
            bx = WIDTH / 2 + bound * scale
            _fill_rect(img, bx - 1, rail_y - 12, bx + 1, rail_y + 12, LIMIT)
        cw, ch = cart_size[0] * scale, cart_size[1] * scale
        _fill_rect(img, cx - cw / 2, rail_y - ch / 2, cx + cw / 2, rail_y + ch / 2, CART)
        a = float(pole_angle[i])
        tip = (cx + np.sin(a) * pole_length * scale, rail_y - np.cos(a) * pole_length * scale)
        _draw_segment(img, (cx, rail_y), tip, 5, POLE)
        _fill_rect(img, 0, top, WIDTH - 1, top, RAIL)
    return img
