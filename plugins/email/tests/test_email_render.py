"""What the emails say: language, caller, answers in script order, times, balance."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from recado_email.render import build_message, render

from hub.core.models import Disposition, Language
from hub.testing import make_delivery, sample_account, sample_client, sample_record


def text_and_html(delivery):  # type: ignore[no-untyped-def]
    message = build_message(delivery, sender="recado@localhost", recipients=["a@acme.example"])
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return message, text, html


def test_portuguese_record_reads_in_portuguese() -> None:
    message, text, html = text_and_html(make_delivery())

    assert message["Subject"] == "Chamada de +351 912 345 678 — Clínica Acme"
    assert message["Content-Language"] == "pt"
    for part in (text, html):
        assert "Chamador" in part and "+351 912 345 678" in part
        assert "Atendida por" in part and "ana" in part
        assert "Apoio ao cliente" in part
        assert "Quer marcação para quinta às 15h" in part


def test_english_record_reads_in_english() -> None:
    delivery = make_delivery(sample_record(language=Language.EN))

    message, text, html = text_and_html(delivery)

    assert message["Subject"] == "Call from +351 912 345 678 — Clínica Acme"
    assert message["Content-Language"] == "en"
    for part in (text, html):
        assert "Caller" in part and "Answered by" in part and "Customer service" in part
        assert "Chamador" not in part


def test_answers_follow_the_script_order_with_its_labels() -> None:
    answers = {"callback": False, "reason": "booking", "name": "Inês Simões", "extra": "x"}
    delivery = make_delivery(sample_record(answers=answers))

    _, text, _ = text_and_html(delivery)

    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert lines == ["- Nome: Inês Simões", "- Motivo: booking", "- Ligar de volta: Não",
                     "- extra: x"]


def test_choice_labels_are_shown_when_the_script_has_them() -> None:
    client = sample_client()
    client["script"]["fields"][1]["choices"] = [
        {"value": "booking", "label": {"pt": "Marcação", "en": "Booking"}}]
    delivery = make_delivery(sample_record(language=Language.EN), client=client)

    _, text, _ = text_and_html(delivery)

    assert "- Reason: Booking" in text


def test_a_client_without_a_script_still_gets_the_answers() -> None:
    delivery = make_delivery(client={"id": "acme"})

    message, text, _ = text_and_html(delivery)

    assert "- name: João Gonçalves" in text
    assert message["Subject"].endswith("— acme")


def test_times_are_shown_in_lisbon_time() -> None:
    # 09:12 UTC in June is 10:12 in Lisbon (summer time); in January it is the same hour.
    summer = make_delivery(sample_record(offered_at=datetime(2026, 6, 15, 9, 12, tzinfo=UTC)))
    winter = make_delivery(sample_record(offered_at=datetime(2026, 1, 15, 9, 12, tzinfo=UTC)))

    assert "Recebida: 15/06/2026 10:12" in text_and_html(summer)[1]
    assert "Recebida: 15/01/2026 09:12" in text_and_html(winter)[1]


PT_ACCOUNT = ("1 234,56 €", "Chamadas atendidas este mês: 87", "Contactos feitos este mês: 5")
EN_ACCOUNT = ("€1,234.56", "Calls answered this month: 87", "Contacts made this month: 5")


@pytest.mark.parametrize(("delivery", "expected"), [
    (make_delivery(), PT_ACCOUNT),
    (make_delivery(sample_record(language=Language.EN)), EN_ACCOUNT),
    (make_delivery(sample_record(disposition=Disposition.MISSED, answers={})), PT_ACCOUNT),
    (make_delivery(kind="notice"), PT_ACCOUNT),
    (make_delivery(kind="notice", client=sample_client(languages=["en"])), EN_ACCOUNT),
], ids=["pt", "en", "missed", "notice-pt", "notice-en"])
def test_every_email_shows_the_balance_and_calls_this_month(delivery, expected) -> None:  # type: ignore[no-untyped-def]
    balance, answered, outbound = expected
    delivery = delivery.model_copy(
        update={"account": sample_account(balance_cents=123_456, answered=87, outbound=5)})

    _, text, html = text_and_html(delivery)

    assert balance in text and answered in text and outbound in text
    assert f"<strong>{balance}</strong>" in html
    assert "<td>87</td>" in html and "<td>5</td>" in html


def test_english_email_shows_euros_the_english_way() -> None:
    delivery = make_delivery(sample_record(language=Language.EN),
                             account=sample_account(balance_cents=9_850))

    _, text, _ = text_and_html(delivery)

    assert "Balance: €98.50" in text


def test_missing_account_reads_unavailable_not_zero() -> None:
    delivery = make_delivery(sample_record(balance_after_cents=0)).model_copy(
        update={"account": {}})

    _, text, _ = text_and_html(delivery)

    assert "Saldo: 0,00 €" in text  # the record's own balance after the call
    assert "Chamadas atendidas este mês: indisponível" in text


def test_notice_is_its_own_email() -> None:
    delivery = make_delivery(kind="notice")

    message, text, html = text_and_html(delivery)

    assert message["Subject"] == "Serviço interrompido — Clínica Acme"
    assert message["Message-ID"] == f"<{delivery.idempotency_key}@acme.recado>"
    assert "Carregue o saldo para o retomar" in text and "Carregue o saldo" in html
    assert "Chamador" not in text


def test_missed_call_and_hidden_number_have_their_own_subject() -> None:
    record = sample_record(disposition=Disposition.MISSED, caller=None, answers={})

    message, text, _ = text_and_html(make_delivery(record))

    assert message["Subject"] == "Chamada não atendida de número não identificado — Clínica Acme"
    assert "Sem respostas registadas." in text


def test_html_escapes_what_the_caller_said() -> None:
    record = sample_record(answers={"name": "<script>alert(1)</script>"}, notes="a & b")

    _, text, html = text_and_html(make_delivery(record))

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "a &amp; b" in html
    assert "- Nome: <script>alert(1)</script>" in text


def test_test_deliveries_are_marked_in_the_subject() -> None:
    delivery = make_delivery().model_copy(update={"test": True})

    assert render(delivery).subject.startswith("[Teste] Chamada de")


def test_notices_of_two_clients_at_the_same_moment_get_distinct_message_ids() -> None:
    # A notice's key names the event ("notice:type:time"), not the client.
    key = "notice:service_interrupted:2026-06-15T09:12:00+00:00"
    ids = {
        build_message(make_delivery(kind="notice", client=sample_client(id=client)).model_copy(
            update={"idempotency_key": key}), sender="r@localhost", recipients=["a@b.pt"],
        )["Message-ID"]
        for client in ("acme", "padaria-lopes")
    }

    assert len(ids) == 2
    for message_id in ids:
        assert re.fullmatch(r"<[A-Za-z0-9._-]+@[a-z0-9-]+\.recado>", message_id), message_id


def test_rendering_is_deterministic() -> None:
    first, second = render(make_delivery()), render(make_delivery())

    assert first == second
