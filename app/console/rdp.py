"""One Remote Desktop connection, through aardwolf (an asynchronous RDP client).

aardwolf 0.2.16 is written and tested against Windows, which forgives six departures from
[MS-RDPBCGR] that xrdp (the usual Linux server) does not. `CompliantConnection` and
`RdpSession` correct them without copying the library:

- the client joins its own user channel before the I/O channel (1.3.1.1, "Channel
  Connection"); aardwolf joins only the I/O and static channels;
- a Share Data Header's ``totalLength`` counts the 18 header bytes, not 24 (2.2.8.1.1.1.2);
- the server's Synchronize PDU comes after the client's own (1.3.1.1, "Connection
  Finalization"); aardwolf waits for it after Confirm Active, so it is handed one at once
  (the server's own, arriving later, is ignored with the other finalization PDUs);
- a capability set the client does not know is skipped, not an error (2.2.1.13.1.1.1);
- bitmaps come as slow-path Update PDUs too (2.2.9.1.1.3.1.2), not only fast-path ones:
  `RdpSession` decodes those from the I/O channel, where aardwolf leaves them;
- a bitmap is as wide as its ``width`` says (a multiple of 4 for an uncompressed one) and
  only its destination rectangle is shown (2.2.9.1.1.3.1.2.2); aardwolf decoded it at the
  destination's width, garbling or failing on any other, so both paths decode it by `_video`.

Its RDP 6.1 bulk decompressor misreads xrdp's packets, so bulk compression is not offered
(TLS carries the packets whole). It also compiles its three ASN.1 modules at every
connection: a second of CPU during which the event loop, and so every other open console,
stands still; they are compiled once per process here (`warm_up`), and the compiled codecs,
which keep no state, shared. The capability parser, the bitmap decoder and the compiler are
replaced for the whole process, which uses aardwolf only through this module.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aardwolf.connection
import asn1tools
from aardwolf.commons.iosettings import RDPIOSettings
from aardwolf.commons.queuedata import RDPDATATYPE
from aardwolf.commons.queuedata.constants import MOUSEBUTTON, VIDEO_FORMAT
from aardwolf.commons.queuedata.video import RDP_VIDEO
from aardwolf.commons.target import RDPTarget
from aardwolf.connection import RDPConnection
from aardwolf.protocol.fastpath.bitmap import (
    TS_BITMAP_DATA,
    TS_BITMAP_FLAG,
    TS_UPDATE_BITMAP_DATA,
)
from aardwolf.protocol.pdu import capabilities
from aardwolf.protocol.T128.share import PDUTYPE, TS_SHARECONTROLHEADER
from aardwolf.utils.rectconvert import rectconvert
from asyauth.common.constants import asyauthProtocol, asyauthSecret
from asyauth.common.credentials import UniCredential
from PIL import Image

logger = logging.getLogger(__name__)

# The client's libraries log through handlers of their own, past the platform's (JSON lines,
# secrets redacted): their records go the platform's way instead. Their warnings are about
# the server's manners (xrdp never confirms a disconnect), so only errors are kept.
for _name in ("aardwolf", "asysocks", "asyauth"):
    _library = logging.getLogger(_name)
    _library.handlers.clear()
    _library.propagate = True
    _library.setLevel(logging.ERROR)

SHARE_DATA_HEADER_BYTES = 18
PDUTYPE2_OFFSET = 14  # in the Share Data Header
SYNCHRONIZE = 0x1F
UPDATE = 0x02
UPDATETYPE_BITMAP = 0x0001
SERVER_CHANNEL_ID = 1002
SHARE_ID = 0x103EA  # aardwolf's own
CLOSE_SECONDS = 2.0


class ConsoleConnectError(Exception):
    """The machine's Remote Desktop server could not be reached or refused the session."""


@dataclass(frozen=True)
class Region:
    """A changed rectangle of the remote screen, as RGB pixels."""

    x: int
    y: int
    image: Image.Image


class _Raw:
    """Bytes already laid out, for `RDPConnection.handle_out_data` to send as they are."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def to_bytes(self) -> bytes:
        return self.data


def _caps_from_buffer(buff: io.BytesIO) -> Any:
    start = buff.tell()
    kind = int.from_bytes(buff.read(2), "little")
    buff.seek(start)
    if kind in capabilities.CAPSTYPE._value2member_map_:
        return _known_caps_from_buffer(buff)
    buff.read(2)
    skipped = capabilities.TS_CAPS_SET()
    skipped.lengthCapability = int.from_bytes(buff.read(2), "little")
    skipped.capabilityData = buff.read(skipped.lengthCapability - 4)
    return skipped


_known_caps_from_buffer = capabilities.TS_CAPS_SET.from_buffer
capabilities.TS_CAPS_SET.from_buffer = staticmethod(_caps_from_buffer)


class _CompiledOnce:
    """`asn1tools` as aardwolf's connection module sees it: each module compiled once."""

    compile_string = staticmethod(functools.cache(asn1tools.compile_string))


aardwolf.connection.asn1tools = _CompiledOnce


def warm_up() -> None:
    """Compile aardwolf's ASN.1 modules now rather than in the first console."""
    from aardwolf.protocol.T124.GCCPDU import GCCPDU
    from aardwolf.protocol.T125.MCSPDU_ver_2 import MCSPDU_ver_2

    for module, codec in ((MCSPDU_ver_2, "ber"), (MCSPDU_ver_2, "per"), (GCCPDU, "per")):
        _CompiledOnce.compile_string(module, codec)


def _server_synchronize() -> bytes:
    data = struct.pack("<IBBHBBH", SHARE_ID, 0, 1, 4, SYNCHRONIZE, 0, 0)
    data += struct.pack("<HH", 1, SERVER_CHANNEL_ID)
    header = struct.pack("<HHH", 6 + len(data), 0x10 | PDUTYPE.DATAPDU.value, SERVER_CHANNEL_ID)
    return header + data


class CompliantConnection(RDPConnection):
    """aardwolf's connection with the corrections listed in the module docstring."""

    async def _RDPConnection__join_channels(self) -> tuple[bool | None, Exception | None]:
        request = self._t125_per_codec.encode(
            "DomainMCSPDU",
            ("channelJoinRequest", {"initiator": self._initiator, "channelId": self._initiator}),
        )
        await self._x224net.write(bytes(request))
        response = await self._x224net.read()
        if response is None:
            return None, ConsoleConnectError("connection closed while joining the user channel")
        answer = self._t125_per_codec.decode("DomainMCSPDU", response.data)
        if answer[0] != "channelJoinConfirm":
            return None, ConsoleConnectError("the server refused the user channel")
        result: tuple[bool | None, Exception | None] = await super()._RDPConnection__join_channels()
        return result

    async def handle_out_data(
        self,
        dataobj: Any,
        sec_hdr: Any,
        datacontrol_hdr: Any,
        sharecontrol_hdr: Any,
        channel_id: int,
        is_fastpath: bool,
    ) -> tuple[bool | None, Exception | None]:
        if datacontrol_hdr is not None and sharecontrol_hdr is None and not is_fastpath:
            payload = dataobj.to_bytes()
            control = TS_SHARECONTROLHEADER()
            control.pduType = PDUTYPE.DATAPDU
            control.pduSource = channel_id
            control.totalLength = len(payload) + SHARE_DATA_HEADER_BYTES
            datacontrol_hdr.shareControlHeader = control
            datacontrol_hdr.uncompressedLength = len(payload) + 4
            datacontrol_hdr.compressedType = 0
            datacontrol_hdr.compressedLength = 0
            dataobj, datacontrol_hdr = _Raw(datacontrol_hdr.to_bytes() + payload), None
        result: tuple[bool | None, Exception | None] = await super().handle_out_data(
            dataobj, sec_hdr, datacontrol_hdr, sharecontrol_hdr, channel_id, is_fastpath
        )
        if sharecontrol_hdr is not None and sharecontrol_hdr.pduType == PDUTYPE.CONFIRMACTIVEPDU:
            channels = self._RDPConnection__joined_channels
            await channels["MCS"].out_queue.put((_server_synchronize(), None))
        return result


def _video(bitmap: TS_BITMAP_DATA) -> RDP_VIDEO:
    """A bitmap decoded at its own width, then cut to its destination rectangle."""
    video = RDP_VIDEO()
    video.x, video.y = bitmap.destLeft, bitmap.destTop
    video.width = bitmap.destRight - bitmap.destLeft + 1
    video.height = bitmap.destBottom - bitmap.destTop + 1
    compressed = TS_BITMAP_FLAG.BITMAP_COMPRESSION in bitmap.flags
    image = rectconvert(
        bitmap.width, bitmap.height, bitmap.bitsPerPixel, compressed, bitmap.bitmapDataStream
    )
    # A desktop is opaque: RGB drops whatever a 32-bit bitmap's fourth byte held.
    video.data = image.crop((0, 0, video.width, video.height)).convert("RGB")
    return video


def _from_bitmapdata(bitmap: TS_BITMAP_DATA, output_format: VIDEO_FORMAT) -> tuple[Any, Any]:
    """`RDP_VIDEO.from_bitmapdata` for aardwolf's fast path (`RdpSession` asks for images)."""
    video = _video(bitmap)
    return video, video.data


RDP_VIDEO.from_bitmapdata = staticmethod(_from_bitmapdata)


MOUSE_BUTTONS = {
    -1: MOUSEBUTTON.MOUSEBUTTON_HOVER,
    0: MOUSEBUTTON.MOUSEBUTTON_LEFT,
    1: MOUSEBUTTON.MOUSEBUTTON_MIDDLE,
    2: MOUSEBUTTON.MOUSEBUTTON_RIGHT,
}


class RdpSession:
    """A connected desktop: its changed regions as they come, and input sent to it."""

    def __init__(self, connection: CompliantConnection, width: int, height: int) -> None:
        self._connection = connection
        self.width = width
        self.height = height
        self._slow_path = asyncio.create_task(self._slow_path_bitmaps())

    async def _slow_path_bitmaps(self) -> None:
        """Decode the bitmap updates sent on the I/O channel into the same queue."""
        channel = self._connection._RDPConnection__joined_channels["MCS"]
        while True:
            data, error = await channel.out_queue.get()
            if error is not None or data is None:
                return
            if len(data) < SHARE_DATA_HEADER_BYTES + 4 or data[PDUTYPE2_OFFSET] != UPDATE:
                continue
            offset = SHARE_DATA_HEADER_BYTES
            if int.from_bytes(data[offset : offset + 2], "little") != UPDATETYPE_BITMAP:
                continue
            try:
                update = TS_UPDATE_BITMAP_DATA.from_bytes(data[offset:])
                videos = [_video(rectangle) for rectangle in update.rectangles]
            except Exception:  # the server's bytes: one bad update must not end the screen
                logger.warning("console: an undecodable bitmap update was skipped", exc_info=True)
                continue
            for video in videos:
                await self._connection.ext_out_queue.put(video)

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        width: int = 1024,
        height: int = 768,
        timeout: float = 10.0,
    ) -> RdpSession:
        """Connect and log on; raises `ConsoleConnectError` when that fails."""
        settings = RDPIOSettings()
        settings.channels = []
        settings.vchannels = {}
        settings.video_width, settings.video_height = width, height
        settings.video_bpp_min, settings.video_bpp_max = 15, 32
        settings.video_out_format = VIDEO_FORMAT.PIL
        settings.clipboard_use_pyperclip = False
        settings.bulk_compression_max_type = None
        target = RDPTarget(ip=host, port=port, timeout=max(1, int(timeout)))
        # NTLM: the client offers CredSSP (Network Level Authentication, which Windows
        # asks for by default) as well as plain TLS (all xrdp speaks).
        credential = UniCredential(
            secret=password,
            username=username,
            stype=asyauthSecret.PASSWORD,
            protocol=asyauthProtocol.NTLM,
        )
        connection = CompliantConnection(target, credential, settings)
        try:
            _, error = await asyncio.wait_for(connection.connect(), timeout)
        except TimeoutError:
            error = TimeoutError("no answer")
        if error is not None:
            await connection.terminate()
            raise ConsoleConnectError(type(error).__name__)
        return cls(connection, width, height)

    async def regions(self) -> AsyncIterator[Region]:
        """Each changed rectangle, until the server ends the session."""
        while True:
            item = await self._connection.ext_out_queue.get()
            if item is None:
                return
            if item.type == RDPDATATYPE.VIDEO:
                yield Region(item.x, item.y, item.data)

    async def key(self, scancode: int, extended: bool, down: bool) -> None:
        await self._connection.send_key_scancode(scancode, down, extended)

    async def mouse(self, button: int, x: int, y: int, down: bool) -> None:
        x = min(max(x, 0), self.width - 1)
        y = min(max(y, 0), self.height - 1)
        await self._connection.send_mouse(MOUSE_BUTTONS[button], x, y, down)

    async def close(self) -> None:
        """End the connection and every task it runs, within `CLOSE_SECONDS`: aardwolf's
        `terminate` asks the server to shut down and waits for its answer, which a server
        that is hanging or gone never sends, and then it never cancels its readers."""
        self._slow_path.cancel()  # the answer comes on the I/O channel it reads
        try:
            await asyncio.wait_for(self._connection.terminate(), CLOSE_SECONDS)
        except TimeoutError:
            logger.info("console: the machine did not answer the disconnect")
        connection = self._connection
        tasks = [
            task
            for task in (
                self._slow_path,
                connection._RDPConnection__external_reader_task,
                connection._RDPConnection__x224_reader_task,
            )
            if task is not None and task is not asyncio.current_task()
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
