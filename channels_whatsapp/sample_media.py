"""Small real files for the fake Cloud API and the demo's customers: a JPEG photo, an
Ogg Opus voice note and a one-page PDF, made by code at start (no image or audio library
is installed, and none is needed: each format's smallest valid form is a few structures).

- The JPEG is baseline, 4:4:4 YCbCr, and keeps only each 8x8 block's average colour (its
  DC coefficient; every block ends at once with EOB), so a picture of flat blocks: a
  parcel on a table, enough for a browser to decode and show.
- The voice note is Opus in Ogg: the identification and comment headers, then 20 ms
  frames of silence (the codec's three-byte silent CELT frame), so players read a duration.
- The PDF is one page of text with its cross-reference table.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

Rgb = tuple[int, int, int]

# --- JPEG --------------------------------------------------------------------------------

# The standard luminance DC table (ITU T.81, K.3): code lengths 1..16 and the categories.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
# An AC table of one symbol, EOB (0x00), coded as the single bit 0.
_AC_BITS = (1,) + (0,) * 15
_AC_VALUES = (0,)


def _huffman_codes(bits: tuple[int, ...], values: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes (T.81, C.2): symbol -> (code, length)."""
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    k = 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.count = 0

    def write(self, value: int, length: int) -> None:
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.count += 1
            if self.count == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0x00)  # byte stuffing
                self.acc = 0
                self.count = 0

    def flush(self) -> bytes:
        if self.count:
            self.write((1 << (8 - self.count)) - 1, 8 - self.count)  # pad with ones
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(
    width: int, height: int, colour_at: Callable[[int, int], Rgb], comment: bytes = b""
) -> bytes:
    """A baseline JPEG of ``width`` x ``height`` (multiples of 8) whose 8x8 blocks take
    the colour ``colour_at(block_x, block_y)``; ``comment`` goes in COM segments (a way to
    make a file of a given size)."""
    if width % 8 or height % 8:
        raise ValueError("width and height must be multiples of 8")
    dc_codes = _huffman_codes(_DC_BITS, _DC_VALUES)
    ac_eob = _huffman_codes(_AC_BITS, _AC_VALUES)[0]
    bits = _BitWriter()
    previous = [0, 0, 0]
    for by in range(height // 8):
        for bx in range(width // 8):
            r, g, b = colour_at(bx, by)
            ycc = (
                0.299 * r + 0.587 * g + 0.114 * b,
                128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
            )
            for c, level in enumerate(ycc):
                # With every quantizer 1, a flat block's DC is 8 x (level - 128).
                dc = max(-1024, min(1016, round(8 * (level - 128))))
                diff = dc - previous[c]
                previous[c] = dc
                size = abs(diff).bit_length()
                code, length = dc_codes[size]
                bits.write(code, length)
                if size:
                    bits.write(diff if diff > 0 else diff + (1 << size) - 1, size)
                bits.write(*ac_eob)
    scan = bits.flush()
    parts = [b"\xff\xd8", _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    for start in range(0, len(comment), 65000):
        parts.append(_segment(0xFE, comment[start : start + 65000]))
    parts.append(_segment(0xDB, b"\x00" + b"\x01" * 64))  # one table, every step 1
    parts.append(
        _segment(
            0xC0,
            struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00",
        )
    )
    parts.append(_segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALUES)))
    parts.append(_segment(0xC4, b"\x10" + bytes(_AC_BITS) + bytes(_AC_VALUES)))
    parts.append(_segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00"))
    parts.append(scan)
    parts.append(b"\xff\xd9")
    return b"".join(parts)


def _parcel(bx: int, by: int) -> Rgb:
    """A cardboard parcel with a torn, darker corner on a pale table."""
    if 8 <= bx < 32 and 6 <= by < 24:
        if bx >= 26 and by < 11:
            return (96, 62, 34)  # the damage
        if bx in (19, 20):
            return (200, 180, 120)  # tape
        shade = 12 if by < 10 else 0
        return (176 + shade, 128 + shade, 74 + shade)
    return (232 - by, 228 - by, 220 - by)


def photo_jpeg(*, size: int = 0, label: bytes = b"") -> bytes:
    """The demo's photo: a 320x240 damaged parcel, padded to ``size`` bytes if larger."""
    base = jpeg(320, 240, _parcel, comment=label)
    missing = size - len(base)
    if missing <= 0:
        return base
    # Each COM segment adds four bytes of its own beside its data.
    segments = missing // 65004 + 1
    return jpeg(320, 240, _parcel, comment=label + b"." * max(0, missing - 4 * segments))


# --- Ogg Opus ----------------------------------------------------------------------------


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(
    packets: list[bytes], *, granule: int, serial: int, sequence: int, flags: int
) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = header + bytes(lacing) + b"".join(packets)
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def voice_ogg(seconds: float = 2.0) -> bytes:
    """A mono Ogg Opus voice note of ``seconds`` of silence."""
    serial = 0x43584731
    pre_skip = 312
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    vendor = b"cxgear"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [
        _ogg_page([head], granule=0, serial=serial, sequence=0, flags=0x02),
        _ogg_page([tags], granule=0, serial=serial, sequence=1, flags=0x00),
    ]
    frames = max(1, int(seconds * 50))
    silent = b"\xf8\xff\xfe"  # TOC: CELT full band 20 ms mono, then the silent frame
    samples = pre_skip
    sequence = 2
    for start in range(0, frames, 50):
        count = min(50, frames - start)
        samples += 960 * count
        last = start + count >= frames
        pages.append(
            _ogg_page(
                [silent] * count,
                granule=samples,
                serial=serial,
                sequence=sequence,
                flags=0x04 if last else 0x00,
            )
        )
        sequence += 1
    return b"".join(pages)


# --- PDF ---------------------------------------------------------------------------------


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def document_pdf(
    lines: tuple[str, ...] = ("Delivery note 4471", "1 parcel, 2.4 kg", "Signed: not delivered"),
) -> bytes:
    """A one-page PDF with ``lines`` of text."""
    stream = (
        "BT /F1 18 Tf 72 720 Td 24 TL "
        + " ".join(f"({_pdf_text(line)}) '" for line in lines)
        + " ET"
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
