#!/usr/bin/env python3
"""Draws ddns-tray's icons (no dependencies beyond the standard library) into assets/icons/.

The app icon is a disc with a white "up-link" mark: a globe-like ring and an arrow. Tray state icons use the
same shape in the state's colour: ok (green), updating (blue), failing (red), paused (grey), unreachable
(amber: published, but a NAT in front keeps the internet out), idle (no records:
white disc with a grey ring). Each is drawn with 4x4 supersampling so small sizes stay smooth, and has a dark
outline so it reads on light and dark panels. `ddns-tray.ico` embeds PNGs at 16, 24, 32, 48 and 256 px.
"""
import math
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "assets", "icons")
COLOURS = {
    "ok": (46, 157, 91),
    "updating": (37, 110, 214),
    "failing": (214, 48, 49),
    "paused": (128, 128, 128),
    "unreachable": (222, 138, 0),
}


def png(size, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * size * 4:(y + 1) * size * 4]) for y in range(size))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def shade(x, y, fill, idle):
    """Colour of the point (x, y) in unit coordinates (-1..1), or None outside."""
    r = math.hypot(x, y)
    if r > 0.97:
        return None
    if r > 0.86:
        return (30, 30, 30)  # outline, visible on light panels
    if idle:
        if r > 0.70:
            return (128, 128, 128)
        return (250, 250, 250)
    # white arrow pointing up: shaft and head
    in_shaft = abs(x) < 0.11 and -0.05 < y < 0.55
    in_head = y <= -0.05 and y > -0.58 and abs(x) < (y + 0.58) * 0.95
    ring = 0.62 < r < 0.72 and y > 0.15
    if in_shaft or in_head or ring:
        return (255, 255, 255)
    return fill


def draw(size, fill, idle=False, ss=4):
    pixels = []
    for py in range(size):
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    x = ((px + (sx + 0.5) / ss) / size) * 2 - 1
                    y = ((py + (sy + 0.5) / ss) / size) * 2 - 1
                    c = shade(x, y, fill, idle)
                    if c:
                        acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255
            n = ss * ss
            a = acc[3] / n
            if a:
                pixels += [int(acc[0] * 255 / acc[3]), int(acc[1] * 255 / acc[3]), int(acc[2] * 255 / acc[3]), int(a)]
            else:
                pixels += [0, 0, 0, 0]
    return png(size, pixels)


def ico(images):
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, data = b"", b""
    for size, blob in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(blob), offset + len(data))
        data += blob
    return header + entries + data


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "ddns-tray.png"), "wb") as f:
        f.write(draw(256, COLOURS["ok"]))
    for state, colour in COLOURS.items():
        with open(os.path.join(OUT, f"tray-{state}.png"), "wb") as f:
            f.write(draw(32, colour))
    with open(os.path.join(OUT, "tray-idle.png"), "wb") as f:
        f.write(draw(32, None, idle=True))
    with open(os.path.join(OUT, "ddns-tray.ico"), "wb") as f:
        f.write(ico([(s, draw(s, COLOURS["ok"])) for s in (16, 24, 32, 48, 256)]))


if __name__ == "__main__":
    main()
