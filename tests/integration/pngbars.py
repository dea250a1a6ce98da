#!/usr/bin/env python3
"""The bars of one colour in a PNG screenshot (standard library only).

  pngbars.py FILE.png RRGGBB...
      Prints, for each colour and each pixel row holding pixels of the
      colour (each channel within 6), the row's number and its count of
      such pixels: "RRGGBB ROW COUNT" per line.  A horizontal bar of width W
      and height H shows as H consecutive rows with count W.

Reads 8-bit RGB or RGBA PNGs, not interlaced (what Chromium writes).
"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("%s: not a PNG" % path)
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                sys.exit("%s: only 8-bit RGB/RGBA, not interlaced" % path)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    wants = [(c.lower(), bytes.fromhex(c)) for c in sys.argv[2:]]
    width, _, channels, rows = read_png(sys.argv[1])
    for y, line in enumerate(rows):
        counts = dict.fromkeys((name for name, _ in wants), 0)
        for x in range(width):
            px = line[x * channels:x * channels + 3]
            for name, want in wants:
                if all(abs(px[k] - want[k]) <= 6 for k in range(3)):
                    counts[name] += 1
        for name, n in counts.items():
            if n:
                print(name, y, n)


if __name__ == "__main__":
    main()
