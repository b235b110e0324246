"""How many SMS segments a text takes: GSM-7 when every character allows it, else UCS-2.

The GSM 7-bit default alphabet (3GPP TS 23.038, §6.2.1) has 127 characters of one
septet each; its extension table adds ten more that take two septets (an escape and
the character): ``^ { } \\ [ ~ ] | €`` and form feed. A text that uses any other
character is sent in UCS-2, counted in UTF-16 code units (a character outside the
Basic Multilingual Plane, such as most emoji, takes two).

One SMS carries 160 septets or 70 UCS-2 units. A longer text is split into
concatenated segments whose header leaves 153 septets or 67 units each; a
character is never split across two segments, so an escaped GSM character or an
emoji at a boundary moves to the next segment.

For Portuguese this means: ``à è é ì ò ù Ç É Ä Ö Ñ Ü ä ö ñ ü`` keep a text in GSM-7,
while ``á í ó ú â ê ô ã õ ç`` (lowercase ç; the alphabet has only Ç) and their
capitals ``Á Í Ó Ú Â Ê Ô Ã Õ À`` force UCS-2. National language shift tables
(which would cover them) are not assumed: generic gateways rarely use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SegmentInfo",
    "non_gsm_characters",
    "segments",
]

#: The default alphabet, in table order (0x00–0x7F) without the escape at 0x1B.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: The extension table: each of these is sent as escape + character, two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PER_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_PER_SEGMENT = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentInfo:
    """How a text is sent: its encoding, its length in that encoding's units, its segments.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2.
    """

    encoding: Encoding
    units: int
    segments: int


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters of `text` outside the GSM-7 alphabet, in order of appearance."""
    found: list[str] = []
    for char in text:
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION and char not in found:
            found.append(char)
    return found


def _gsm7_costs(text: str) -> list[int] | None:
    """Septets of each character, or None when one of them is not in GSM-7."""
    costs = []
    for char in text:
        if char in GSM7_BASIC:
            costs.append(1)
        elif char in GSM7_EXTENSION:
            costs.append(2)
        else:
            return None
    return costs


def _ucs2_costs(text: str) -> list[int]:
    """UTF-16 code units of each character: two for those outside the Basic Multilingual Plane."""
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _count(costs: list[int], single: int, per_segment: int) -> int:
    """Segments for characters of these costs; a character never straddles two segments."""
    if sum(costs) <= single:
        return 1  # an empty text still goes as one (empty) SMS
    count, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            count += 1
            used = 0
        used += cost
    return count


def segments(text: str) -> SegmentInfo:
    """The encoding, length and number of SMS segments of `text`.

    >>> segments("Olá")
    SegmentInfo(encoding='UCS-2', units=3, segments=1)
    >>> segments("Até amanhã às 15h")
    SegmentInfo(encoding='UCS-2', units=17, segments=1)
    >>> segments("Consulta confirmada: 5ª feira, 15h. Obrigado!")
    SegmentInfo(encoding='UCS-2', units=45, segments=1)
    >>> segments("Consulta confirmada para 5a feira as 15h. Custo: 20€")
    SegmentInfo(encoding='GSM-7', units=53, segments=1)
    """
    gsm = _gsm7_costs(text)
    if gsm is not None:
        return SegmentInfo("GSM-7", sum(gsm), _count(gsm, GSM7_SINGLE, GSM7_PER_SEGMENT))
    ucs2 = _ucs2_costs(text)
    return SegmentInfo("UCS-2", sum(ucs2), _count(ucs2, UCS2_SINGLE, UCS2_PER_SEGMENT))
