"""Screen bitmaps are decoded at their own width and cut to their destination, opaque."""

from __future__ import annotations

from aardwolf.protocol.fastpath.bitmap import TS_BITMAP_DATA, TS_BITMAP_FLAG

from app.console.rdp import _video


def test_a_bitmap_wider_than_its_destination_is_cut_to_it() -> None:
    bitmap = TS_BITMAP_DATA()
    bitmap.destLeft, bitmap.destTop, bitmap.destRight, bitmap.destBottom = 10, 20, 12, 21
    bitmap.width, bitmap.height, bitmap.bitsPerPixel = 4, 2, 32  # one pixel of padding
    bitmap.flags = TS_BITMAP_FLAG(0)
    row_one = bytes([1, 2, 3, 0] * 3 + [9, 9, 9, 0])
    row_two = bytes([30, 20, 10, 0] * 3 + [9, 9, 9, 0])
    bitmap.bitmapDataStream = row_one + row_two
    video = _video(bitmap)
    assert (video.x, video.y, video.width, video.height) == (10, 20, 3, 2)
    assert video.data.size == (3, 2) and video.data.mode == "RGB"
    colours = {colour for _, colour in video.data.getcolors()}
    assert (9, 9, 9) not in colours  # the padding column is not shown
    assert colours == {(1, 2, 3), (30, 20, 10)}
