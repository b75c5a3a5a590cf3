"""What travels over the console's WebSocket.

Server to browser: one text message ``{"type": "ready", "width": …, "height": …}`` once the
desktop is connected, ``{"type": "closed", "reason": …}`` before the gateway closes, and a
binary message per changed region: x, y, width, height (four big-endian 16-bit numbers)
followed by the region as a PNG. Browser to server: small JSON texts, ``{"type": "key",
"code": "KeyA", "down": true}`` and ``{"type": "mouse", "x": 10, "y": 20, "button": 0,
"down": true}`` (button -1 is a move).
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from typing import Any

from PIL import Image

from app.console.keys import SCANCODES

HEADER = struct.Struct(">HHHH")
BUTTONS = (-1, 0, 1, 2)


def region_message(x: int, y: int, image: Image.Image) -> bytes:
    """A changed region as the browser draws it."""
    out = io.BytesIO()
    # Level 1: a desktop's flat areas compress almost as well as at 6, several times faster.
    image.save(out, format="PNG", compress_level=1)
    return HEADER.pack(x, y, image.width, image.height) + out.getvalue()


def text_message(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})


@dataclass(frozen=True)
class KeyInput:
    scancode: int
    extended: bool
    down: bool


@dataclass(frozen=True)
class MouseInput:
    x: int
    y: int
    button: int
    down: bool


def parse_input(message: str | bytes) -> KeyInput | MouseInput | None:
    """The browser's input, or None for anything malformed or unknown (ignored)."""
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("down"), bool):
        return None
    if data.get("type") == "key" and data.get("code") in SCANCODES:
        scancode, extended = SCANCODES[data["code"]]
        return KeyInput(scancode, extended, data["down"])
    if data.get("type") == "mouse":
        x, y, button = data.get("x"), data.get("y"), data.get("button")
        if type(x) is int and type(y) is int and type(button) is int and button in BUTTONS:
            return MouseInput(x, y, button, data["down"])
    return None
