"""Phone numbers never appear in clear in logs."""

from __future__ import annotations

import logging

import pytest

from hub.core.privacy import PhoneMaskingFilter, mask_phone, mask_phones_in


def test_a_number_keeps_only_its_prefix_and_last_two_digits() -> None:
    assert mask_phone("+351912345678") == "+3519******78"


def test_a_masked_number_keeps_its_length() -> None:
    assert len(mask_phone("+351912345678")) == len("+351912345678")


def test_a_short_number_is_masked_entirely() -> None:
    assert mask_phone("112") == "***"


def test_no_number_shows_as_a_dash() -> None:
    assert mask_phone(None) == "-"
    assert mask_phone("") == "-"


def test_every_number_in_a_text_is_masked() -> None:
    text = mask_phones_in("call from +351912345678 to +351 217 000 001 answered")
    assert "912345678" not in text and "217000001" not in text and "217 000 001" not in text
    assert text.startswith("call from +3519") and text.endswith(" answered")


def test_short_numbers_in_a_text_are_left_alone() -> None:
    assert mask_phones_in("price 150 cents, balance 15450, 2026-03-02 09:15") == (
        "price 150 cents, balance 15450, 2026-03-02 09:15"
    )


@pytest.fixture
def masked_log() -> tuple[logging.Logger, list[logging.LogRecord]]:
    """A logger with the masking filter on a handler that keeps the records it emits."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(PhoneMaskingFilter())
    logger = logging.getLogger("test_privacy.masked")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, records


def test_the_logging_filter_masks_numbers_given_as_arguments(
    masked_log: tuple[logging.Logger, list[logging.LogRecord]],
) -> None:
    logger, records = masked_log
    logger.info("call %s from %s", "c1", "+351912345678")
    assert records[0].getMessage() == "call c1 from +3519******78"


def test_the_logging_filter_masks_numbers_written_in_the_message(
    masked_log: tuple[logging.Logger, list[logging.LogRecord]],
) -> None:
    logger, records = masked_log
    logger.warning("caller +351912345678 hung up")
    assert "912345678" not in records[0].getMessage()


def test_the_logging_filter_never_drops_a_record(
    masked_log: tuple[logging.Logger, list[logging.LogRecord]],
) -> None:
    logger, records = masked_log
    logger.info("nothing to mask: %d calls", 3)
    assert [r.getMessage() for r in records] == ["nothing to mask: 3 calls"]
