"""What kind of file an upload is, decided from its first bytes, never from its name.

A rep's phone may call a PNG screenshot "IMG_0001.jpg"; the validation lock and the
dashboards need to know what the bytes really are.
"""

from __future__ import annotations

# Enough for every signature below, including an ftyp box listing many brands.
HEAD_BYTES = 4096

OCTET_STREAM = "application/octet-stream"

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_PDF = b"%PDF-"
# PDF readers accept the header anywhere in the first 1024 bytes (some scanners prepend
# junk), so we do too.
_PDF_WINDOW = 1024

# ISO-BMFF brands (ISO/IEC 23008-12 and the IANA registrations) and the type each implies.
_BRAND_TYPES = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"hevm": "image/heic-sequence",
    b"hevs": "image/heic-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
}


def sniff_content_type(head: bytes) -> str:
    """The MIME type of a file from its first bytes (at least HEAD_BYTES when it has them)."""
    if head.startswith(_JPEG):
        return "image/jpeg"
    if head.startswith(_PNG):
        return "image/png"
    if _PDF in head[:_PDF_WINDOW]:
        return "application/pdf"
    return _heif_type(head) or OCTET_STREAM


def _heif_type(head: bytes) -> str | None:
    """The HEIF family type from a leading `ftyp` box, or None if there is none."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None

    box_size = int.from_bytes(head[0:4], "big")
    if box_size < 16 or box_size % 4 != 0:
        return None
    major_brand = head[8:12]
    # Bytes 12..16 are the minor version; the compatible brands fill the rest of the box.
    compatible = [head[offset : offset + 4] for offset in range(16, min(box_size, len(head)), 4)]

    # The major brand says what the file mainly is; a generic major brand (mif1, msf1)
    # defers to a more specific compatible brand such as heic.
    for brand in [major_brand, *compatible]:
        content_type = _BRAND_TYPES.get(brand)
        if content_type is not None and brand not in (b"mif1", b"msf1"):
            return content_type
    for brand in [major_brand, *compatible]:
        if brand in _BRAND_TYPES:
            return _BRAND_TYPES[brand]
    return None
