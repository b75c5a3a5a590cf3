"""The browser's key names (``KeyboardEvent.code``) as PC keyboard scancodes (set 1).

``code`` names a physical key whatever the layout, which is what a Remote Desktop server
expects: it applies the machine's own keyboard layout to the scancode. A code not listed
is not sent.
"""

from __future__ import annotations

_ROWS = {
    0x02: "Digit1 Digit2 Digit3 Digit4 Digit5 Digit6 Digit7 Digit8 Digit9 Digit0 Minus Equal "
    "Backspace Tab KeyQ KeyW KeyE KeyR KeyT KeyY KeyU KeyI KeyO KeyP BracketLeft "
    "BracketRight Enter ControlLeft KeyA KeyS KeyD KeyF KeyG KeyH KeyJ KeyK KeyL Semicolon "
    "Quote Backquote ShiftLeft Backslash KeyZ KeyX KeyC KeyV KeyB KeyN KeyM Comma Period "
    "Slash ShiftRight NumpadMultiply AltLeft Space CapsLock F1 F2 F3 F4 F5 F6 F7 F8 F9 F10 "
    "NumLock ScrollLock Numpad7 Numpad8 Numpad9 NumpadSubtract Numpad4 Numpad5 Numpad6 "
    "NumpadAdd Numpad1 Numpad2 Numpad3 Numpad0 NumpadDecimal",
}

SCANCODES: dict[str, tuple[int, bool]] = {"Escape": (0x01, False)}
for _first, _names in _ROWS.items():
    for _offset, _name in enumerate(_names.split()):
        SCANCODES[_name] = (_first + _offset, False)
SCANCODES.update(
    {
        "IntlBackslash": (0x56, False),
        "F11": (0x57, False),
        "F12": (0x58, False),
        "NumpadEnter": (0x1C, True),
        "ControlRight": (0x1D, True),
        "NumpadDivide": (0x35, True),
        "PrintScreen": (0x37, True),
        "AltRight": (0x38, True),
        "Home": (0x47, True),
        "ArrowUp": (0x48, True),
        "PageUp": (0x49, True),
        "ArrowLeft": (0x4B, True),
        "ArrowRight": (0x4D, True),
        "End": (0x4F, True),
        "ArrowDown": (0x50, True),
        "PageDown": (0x51, True),
        "Insert": (0x52, True),
        "Delete": (0x53, True),
        "MetaLeft": (0x5B, True),
        "MetaRight": (0x5C, True),
        "ContextMenu": (0x5D, True),
    }
)
