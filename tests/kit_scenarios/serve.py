"""Keep Kit updating until the test asks it to stop (``KitProcess.request_stop``), e.g. while a browser talks to
the running extension."""

from __future__ import annotations

MAX_FRAMES = 1_000_000


def scenario(kit) -> None:
    assert kit.extension() is not None
    kit.result["frames"] = kit.serve(MAX_FRAMES)
