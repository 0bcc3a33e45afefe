"""Viser's websocket wire format as its page reads it (viser/client/src/WebsocketClientWorker.ts,
``decodeHybridMessage``) and writes it (plain msgpack of one message): shared by the browser tests and the
benchmark's remote page (comparison 10)."""

from __future__ import annotations

from typing import Any

import msgspec
import zstandard


def _align8(n: int) -> int:
    return n + (8 - n % 8) % 8


def decode_frame(payload: bytes) -> list[tuple[dict, list[bytes]]]:
    """Viser's websocket frame -> [(message dict, binary buffers of the frame)]."""
    inner_len = int.from_bytes(payload[:8], "little")
    compressed_len = int.from_bytes(payload[8:16], "little")
    inner = zstandard.ZstdDecompressor().decompress(payload[16 : 16 + compressed_len], max_output_size=inner_len)
    meta = msgspec.msgpack.decode(inner)
    buffers, offset = [], 16 + compressed_len
    for length in meta["binaryBufferLengths"]:
        offset = _align8(offset)
        buffers.append(payload[offset : offset + length])
        offset += length
    return [(message, buffers) for message in meta["messages"]]


def sent_widget_value(payload: bytes | str) -> tuple[bool, Any]:
    """A frame the page sent -> (True, the new value) for a widget's update, else (False, None): the page sends each
    message as plain msgpack (WebsocketClientWorker.ts, ``ws.send(msgpack.encode(message))``), a widget's new value
    as ``GuiUpdateMessage`` with ``updates.value`` (ControlPanel/Generated.tsx, ``setValue``)."""
    if isinstance(payload, str):
        return False, None
    message = msgspec.msgpack.decode(payload)
    if not isinstance(message, dict) or message.get("type") != "GuiUpdateMessage" or "value" not in message["updates"]:
        return False, None
    return True, message["updates"]["value"]


def batched_positions(message: dict) -> Any:
    """The body transforms a message carries (the binary placeholder of a batch's mesh positions), else None: an
    update of a batch's positions, or a batch created with them (the built envs' first frame)."""
    if message.get("type") == "SceneNodeUpdateMessage":
        positions = message["updates"].get("batched_positions")
    else:
        props = message.get("props")
        positions = props.get("batched_positions") if isinstance(props, dict) else None
    return positions if isinstance(positions, dict) and "__binary_index" in positions else None
