"""Segment counting: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2."""

from __future__ import annotations

import math
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from recado_sms.encoding import GSM7_BASIC, GSM7_EXTENSION, SegmentInfo, non_gsm_characters, segments

ASCII_LETTERS = st.text(alphabet=string.ascii_letters, max_size=1200)
BASIC_ONLY = st.text(alphabet=sorted(GSM7_BASIC), max_size=1200)
#: Characters outside the GSM alphabet, inside the Basic Multilingual Plane (one UTF-16 unit each).
NON_GSM_BMP = st.characters(min_codepoint=0x20, max_codepoint=0xFFFF).filter(
    lambda char: not 0xD800 <= ord(char) <= 0xDFFF and char not in GSM7_BASIC and char not in GSM7_EXTENSION
)

#: Portuguese letters the alphabet has.
PORTUGUESE_IN_GSM = "àèéìòùÇÉÄÖÑÜäöñü"
#: Portuguese letters it lacks: any of them makes the whole text UCS-2.
PORTUGUESE_NOT_IN_GSM = "áíóúâêôãõçÁÍÓÚÂÊÔÃÕÀ"


def test_the_alphabet_has_127_characters_and_10_escaped_ones() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions, one of them the escape
    assert frozenset("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_printable_ascii_is_gsm7_except_the_backtick() -> None:
    outside = [char for char in string.printable if char not in GSM7_BASIC and char not in GSM7_EXTENSION]
    assert outside == ["`", "\t", "\x0b"]


def test_characters_in_their_table_positions_are_gsm7() -> None:
    # Spot checks of positions that differ from ASCII or Latin-1.
    for char in "@£$¥¤¡¿§ÆæßØøÅåΔΦΓΛΩΠΨΣΘΞ_":
        assert char in GSM7_BASIC, char


@given(ASCII_LETTERS)
def test_plain_ascii_letters_are_gsm7(text: str) -> None:
    info = segments(text)
    assert info.encoding == "GSM-7"
    assert info.units == len(text)


@given(ASCII_LETTERS, st.sampled_from(PORTUGUESE_NOT_IN_GSM), st.integers(min_value=0, max_value=1200))
def test_adding_a_portuguese_letter_outside_the_alphabet_makes_the_text_ucs2(text: str, letter: str, at: int) -> None:
    position = min(at, len(text))
    info = segments(text[:position] + letter + text[position:])
    assert info.encoding == "UCS-2"
    assert info.units == len(text) + 1


@pytest.mark.parametrize("letter", PORTUGUESE_IN_GSM)
def test_portuguese_letters_of_the_alphabet_keep_a_text_gsm7(letter: str) -> None:
    assert segments(f"Confirmado {letter}s 15h") == SegmentInfo("GSM-7", 17, 1)


@pytest.mark.parametrize("letter", PORTUGUESE_NOT_IN_GSM)
def test_portuguese_letters_outside_the_alphabet_force_ucs2(letter: str) -> None:
    assert segments(f"Confirmado {letter}s 15h") == SegmentInfo("UCS-2", 17, 1)


def test_lowercase_c_cedilla_forces_ucs2_but_uppercase_does_not() -> None:
    assert segments("AVISO: ALTERAÇÃO").encoding == "UCS-2"  # Ã
    assert segments("ALTERAÇAO").encoding == "GSM-7"
    assert segments("alteraçao").encoding == "UCS-2"


def test_a_typical_portuguese_reminder_is_ucs2() -> None:
    text = "Olá Maria, lembramos a sua consulta amanhã às 15h. Responda PARAR para não receber mensagens."
    info = segments(text)
    assert info == SegmentInfo("UCS-2", len(text), 2)
    assert non_gsm_characters(text) == ["á", "ã"]


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_escaped_characters_count_two_septets(char: str) -> None:
    assert segments(f"a{char}b") == SegmentInfo("GSM-7", 4, 1)


def test_euro_sign_keeps_gsm7_and_counts_two() -> None:
    assert segments("Saldo: 20€") == SegmentInfo("GSM-7", 11, 1)


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_holds_160_septets_alone_and_153_per_segment(length: int, expected: int) -> None:
    assert segments("a" * length) == SegmentInfo("GSM-7", length, expected)


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_holds_70_units_alone_and_67_per_segment(length: int, expected: int) -> None:
    assert segments("ã" * length) == SegmentInfo("UCS-2", length, expected)


def test_escaped_characters_at_the_limit_push_a_single_sms_into_two() -> None:
    assert segments("a" * 158 + "€") == SegmentInfo("GSM-7", 160, 1)
    assert segments("a" * 159 + "€") == SegmentInfo("GSM-7", 161, 2)


def test_an_emoji_counts_two_utf16_units() -> None:
    assert segments("Obrigado 🙂") == SegmentInfo("UCS-2", 11, 1)
    assert segments("🙂" * 35) == SegmentInfo("UCS-2", 70, 1)
    assert segments("🙂" * 36) == SegmentInfo("UCS-2", 72, 2)


def test_an_escaped_character_never_straddles_two_segments() -> None:
    # 306 septets would fit in two segments of 153, but the € cannot be split after 152.
    assert segments("a" * 152 + "€" + "a" * 152) == SegmentInfo("GSM-7", 306, 3)


def test_an_emoji_never_straddles_two_segments() -> None:
    # 134 units would fit in two segments of 67, but the emoji cannot be split after 66.
    assert segments("ã" * 66 + "🙂" + "ã" * 66) == SegmentInfo("UCS-2", 134, 3)


def test_an_empty_text_is_one_sms() -> None:
    assert segments("") == SegmentInfo("GSM-7", 0, 1)


@given(BASIC_ONLY)
def test_texts_of_one_septet_characters_take_ceil_of_153_per_segment(text: str) -> None:
    info = segments(text)
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert info == SegmentInfo("GSM-7", len(text), expected)


@given(st.text(alphabet=NON_GSM_BMP, min_size=1, max_size=700))
def test_texts_of_one_unit_characters_take_ceil_of_67_per_segment(text: str) -> None:
    info = segments(text)
    expected = 1 if len(text) <= 70 else math.ceil(len(text) / 67)
    assert info == SegmentInfo("UCS-2", len(text), expected)


@given(st.text(max_size=800))
def test_segments_are_never_fewer_than_the_units_need(text: str) -> None:
    info = segments(text)
    single, per_segment = (160, 153) if info.encoding == "GSM-7" else (70, 67)
    assert info.segments >= 1
    if info.units > single:
        assert info.segments >= math.ceil(info.units / per_segment)
    assert (info.encoding == "GSM-7") == (not non_gsm_characters(text))


@given(st.text(max_size=400), st.text(max_size=400))
def test_a_longer_text_never_takes_fewer_segments(text: str, more: str) -> None:
    assert segments(text + more).segments >= segments(text).segments
