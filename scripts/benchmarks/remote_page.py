"""The panel's page drawn on another machine, as the panel sees it: a websocket client that connects to viser's
server exactly as viser's page does and only receives (comparison 10's remote arm).

What the page does on the wire (viser/client/src/WebsocketClientWorker.ts, App.tsx, CameraControls.tsx): it opens
``ws://<host>:<port>`` (the page's address, query dropped) with the one subprotocol ``viser-v<version>``, then sends
its camera (``ViewerCameraMessage``, msgpack) once its 3-D view is set up: viser's server counts a client as
connected only from that first camera message (``ViserServer.get_clients()``), and the panel sends body transforms
only while a client is connected. Then it receives every frame. websockets answers the server's pings itself.
Here each frame is decoded as the page decodes it (``tests/viser_wire.py``) and counted: frames, bytes, messages,
body-transform updates per mesh batch. Nothing is drawn, so this process costs this machine only the receiving.

Run as ``python remote_page.py <page url>``: each line read on stdin answers one JSON line of the counters on
stdout (``error``: why receiving stopped, else null); end of stdin closes the connection and exits.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from viser_wire import batched_positions, decode_frame  # noqa: E402

#: the page's first camera message (CameraControls.tsx's fields; a 1200 x 800 canvas, three.js' near / far)
CAMERA = {
    "type": "ViewerCameraMessage",
    "wxyz": [1.0, 0.0, 0.0, 0.0],
    "position": [3.0, -3.0, 2.0],
    "image_height": 800,
    "image_width": 1200,
    "fov": 0.8726646259971648,
    "near": 0.01,
    "far": 1000.0,
    "look_at": [0.0, 0.0, 0.0],
    "up_direction": [0.0, 0.0, 1.0],
}


def socket_url(page_url: str) -> str:
    """The websocket address the page derives from its own (App.tsx, ``getDefaultServerFromUrl``)."""
    parts = urlsplit(page_url)
    return f"ws://{parts.netloc}{parts.path.rstrip('/')}"


class Counts:
    """What the page received, counted on its receiving thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.totals: Counter[str] = Counter()
        self.transforms: Counter[str] = Counter()  # body-transform updates per mesh batch
        self.error: str | None = None  # why receiving stopped before the end of input, in one line

    def receive(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        messages = decode_frame(payload)
        with self.lock:
            self.totals["frames"] += 1
            self.totals["bytes"] += len(payload)
            self.totals["messages"] += len(messages)
            for message, _ in messages:
                if batched_positions(message) is not None:
                    self.transforms[message["name"]] += 1

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            return {**self.totals, "transforms": dict(self.transforms), "error": self.error}


def main() -> None:
    page_url = sys.argv[1]
    counts = Counts()
    parts = urlsplit(page_url)
    with connect(
        socket_url(page_url),
        subprotocols=[f"viser-v{version('viser')}"],  # type: ignore[list-item]
        origin=f"{parts.scheme}://{parts.netloc}",  # type: ignore[arg-type]
        max_size=None,
        open_timeout=60,
    ) as ws:
        ws.send(msgspec.msgpack.encode(CAMERA))

        def receive() -> None:
            try:
                for payload in ws:
                    counts.receive(payload)
            except Exception as exc:  # noqa: BLE001 -- reported in the next snapshot, where the benchmark fails on it
                with counts.lock:
                    counts.error = f"{type(exc).__name__}: {exc}"

        threading.Thread(target=receive, name="remote-page-receive", daemon=True).start()
        for _ in sys.stdin:
            print(json.dumps(counts.snapshot()), flush=True)


if __name__ == "__main__":
    main()
