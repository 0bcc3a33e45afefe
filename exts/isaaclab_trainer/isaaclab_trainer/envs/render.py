"""CPU rendering of cartpoles for videos: a side view drawn from the simulated joint state.

No GPU and no display are needed; each of the first few envs gets a horizontal band showing
its rail, cart and pole where the physics put them.
"""

from __future__ import annotations

import numpy as np

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
