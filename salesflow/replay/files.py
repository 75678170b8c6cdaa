"""Evidence files for replayed actions: real, tiny, and different for every customer.

Photos are JPEGs whose capture time is in their EXIF (DateTimeOriginal with its offset),
so the evidence store reads it from the bytes exactly as it would from a phone's photo;
documents are minimal PDFs. Each file embeds its label, so no two customers share a file.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from PIL import Image

EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_OFFSET_TIME_ORIGINAL = 0x9011
EXIF_IFD = 0x8769
IMAGE_DESCRIPTION = 0x010E


def photo_bytes(label: str, captured_at: datetime) -> bytes:
    """An 8x8 JPEG taken at captured_at (an aware datetime, written in its own offset)."""
    digest = hashlib.sha256(label.encode()).digest()
    image = Image.new("RGB", (8, 8), (digest[0], digest[1], digest[2]))
    exif = Image.Exif()
    exif[IMAGE_DESCRIPTION] = label
    offset = captured_at.strftime("%z")
    exif.get_ifd(EXIF_IFD)[EXIF_DATETIME_ORIGINAL] = captured_at.strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(EXIF_IFD)[EXIF_OFFSET_TIME_ORIGINAL] = f"{offset[:3]}:{offset[3:]}"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=50)
    return buffer.getvalue()


def document_bytes(label: str) -> bytes:
    """A one-page PDF whose only text is the label."""
    text = label.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 10 Tf 20 80 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(body)
