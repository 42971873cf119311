"""Real files for the attachment tests: a scanned page as PNG, JPEG and TIFF (Pillow, which
WeasyPrint brings), a one-page PDF (pypdf), and files that lie about what they are."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfWriter


def image(fmt: str = "PNG", seed: int = 0, size: tuple[int, int] = (40, 30)) -> bytes:
    """A small picture in ``fmt``; ``seed`` changes its pixels (other bytes)."""
    picture = Image.new("RGB", size, (200 - seed % 200, 180, 160 + seed % 90))
    buf = io.BytesIO()
    picture.save(buf, format=fmt)
    return buf.getvalue()


def pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + \
    b"\x80\x00\x00\x00" + b"\x00" * 64 + b"PE\x00\x00L\x01"
HTML = b"<!DOCTYPE html><html><body><script>document.cookie</script></body></html>"
