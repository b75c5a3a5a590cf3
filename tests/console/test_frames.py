"""The console's wire format: regions out, input in; anything else from a browser is
ignored, never an error."""

from __future__ import annotations

import io

from PIL import Image

from app.console.frames import HEADER, KeyInput, MouseInput, parse_input, region_message


def test_a_region_is_its_place_and_size_then_a_png() -> None:
    image = Image.new("RGBA", (7, 3), (10, 20, 30, 255))
    message = region_message(640, 480, image)
    assert HEADER.unpack_from(message) == (640, 480, 7, 3)
    decoded = Image.open(io.BytesIO(message[HEADER.size :]))
    assert decoded.format == "PNG" and decoded.size == (7, 3)
    assert decoded.convert("RGBA").getpixel((6, 2)) == (10, 20, 30, 255)


def test_keys_are_sent_as_the_physical_keys_scancodes() -> None:
    assert parse_input('{"type": "key", "code": "KeyA", "down": true}') == KeyInput(
        0x1E, False, True
    )
    assert parse_input('{"type": "key", "code": "ArrowUp", "down": false}') == KeyInput(
        0x48, True, False
    )
    assert parse_input('{"type": "mouse", "x": 5, "y": 6, "button": 2, "down": true}') == (
        MouseInput(5, 6, 2, True)
    )


def test_malformed_or_unknown_input_is_ignored() -> None:
    for message in (
        "not json",
        b"\x00\x01",
        "[]",
        '{"type": "key", "code": "KeyA"}',
        '{"type": "key", "code": "NoSuchKey", "down": true}',
        '{"type": "key", "code": "KeyA", "down": "yes"}',
        '{"type": "mouse", "x": "5", "y": 6, "button": 0, "down": true}',
        '{"type": "mouse", "x": 5, "y": 6, "button": 9, "down": true}',
        '{"type": "mouse", "x": 5.5, "y": 6, "button": 0, "down": true}',
        '{"type": "paste", "text": "x", "down": true}',
    ):
        assert parse_input(message) is None, message
