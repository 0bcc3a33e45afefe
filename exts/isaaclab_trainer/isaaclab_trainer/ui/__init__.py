"""Kit-free presentation logic of the "Isaac Lab" panel (the Kit window lives in ``isaaclab_trainer.kit``)."""

from .view_model import (
    RENDER_MODE_LABELS,
    BuildArgs,
    InputError,
    PanelState,
    PanelViewModel,
    label_to_render_mode,
    render_mode_to_label,
)

__all__ = [
    "RENDER_MODE_LABELS",
    "BuildArgs",
    "InputError",
    "PanelState",
    "PanelViewModel",
    "label_to_render_mode",
    "render_mode_to_label",
]
