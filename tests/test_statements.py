"""Reading bank statements: camt.053 (.02 and .08) and CSV, amounts in cents without floats."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hub.core.statements import StatementError, detect_format, parse_amount, parse_statement

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"

CAMT_08 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-05T18:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S1</Id>
   <Ntry>
    <Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><DtTm>2026-03-05T09:12:00</DtTm></BookgDt><AcctSvcrRef>B-77</AcctSvcrRef>
    <NtryDtls>
     <TxDtls><Refs><TxId>T1</TxId><EndToEndId>E2E-RC202600000116</EndToEndId></Refs><Amt Ccy="EUR">191.88</Amt>
      <RltdPties><Dbtr><Pty><Nm>Padaria Lopes</Nm></Pty></Dbtr></RltdPties>
      <RmtInf><Strd><CdtrRefInf><Ref>RC202600000116</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>
     <TxDtls><Refs><TxId>T2</TxId></Refs><Amt Ccy="EUR">108.12</Amt>
      <RltdPties><Dbtr><Pty><Nm>Outro</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>fatura 7</Ustrd></RmtInf></TxDtls>
    </NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
    <BookgDt><Dt>2026-03-05</Dt></BookgDt></Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1 234,56", 123456),
        ("1.234,56", 123456),
        ("1234.56", 123456),
        ("1,234.56", 123456),
        ("191,88", 19188),
        ("50,00 €", 5000),
        ("-4,16", -416),
        ("12,5", 1250),
        ("20", 2000),
        ("1\u00a0234,56", 123456),
    ],
)
def test_amounts_are_read_as_integer_cents(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1,2345", "1.23.4", "12.345,678"])
def test_unclear_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount(text)


def test_the_format_is_detected_from_the_content() -> None:
    assert detect_format((EXAMPLES / "statement-camt053.xml").read_bytes()) == "camt053"
    assert detect_format((EXAMPLES / "statement.csv").read_bytes()) == "csv"


def test_a_camt053_statement_gives_its_credits_and_debits() -> None:
    statement = parse_statement((EXAMPLES / "statement-camt053.xml").read_bytes(), name="s.xml")
    paid, unknown, fee = statement.lines
    assert (paid.amount_cents, paid.credit, paid.currency, paid.booked_on) == (19188, True, "EUR", date(2026, 3, 5))
    assert paid.payer == "PADARIA LOPES LDA"
    assert "RC 2026 0000 0116" in paid.remittance
    assert paid.bank_id == "20260305000001"
    assert (unknown.amount_cents, unknown.remittance) == (5000, "Pagamento servico")
    assert (fee.amount_cents, fee.credit) == (1230, False)


def test_a_camt053_08_batch_entry_gives_one_line_per_transaction() -> None:
    statement = parse_statement(CAMT_08, name="s.xml")
    first, second = statement.lines  # the pending entry is not money received yet
    assert (first.amount_cents, first.payer, first.booked_on) == (19188, "Padaria Lopes", date(2026, 3, 5))
    assert "RC202600000116" in first.remittance
    assert (second.amount_cents, second.payer) == (10812, "Outro")
    assert first.bank_id != second.bank_id


def test_a_semicolon_csv_with_portuguese_amounts_is_read() -> None:
    statement = parse_statement((EXAMPLES / "statement.csv").read_bytes(), name="s.csv")
    first, second, tax = statement.lines
    assert (first.booked_on, first.amount_cents, first.payer) == (date(2026, 3, 6), 19188, "CLINICA SOL LDA")
    assert first.remittance == "TRF RC202600000213 Clinica Sol"
    assert second.amount_cents == 10000
    assert (tax.amount_cents, tax.credit, tax.payer) == (416, False, None)


def test_a_comma_csv_with_quoted_amounts_is_read() -> None:
    data = b'date,amount,reference,payer\n2026-03-06,"1,234.56",RC202600000116,"Lopes, Lda"\n'
    [line] = parse_statement(data, name="s.csv").lines
    assert (line.amount_cents, line.payer, line.remittance) == (123456, "Lopes, Lda", "RC202600000116")


def test_identical_csv_lines_keep_keys_of_their_own() -> None:
    data = b"date;amount;reference\n06/03/2026;10,00;x\n06/03/2026;10,00;x\n"
    statement = parse_statement(data, name="s.csv")
    first, second = statement.keys()
    assert first != second
    assert parse_statement(data, name="again.csv").keys() == [first, second]


def test_a_bad_csv_amount_names_the_file_line_and_column() -> None:
    data = b"date;amount;reference\n06/03/2026;dez euros;x\n"
    with pytest.raises(StatementError, match=r"s\.csv, line 2, column amount: 'dez euros' is not an amount"):
        parse_statement(data, name="s.csv")


def test_a_csv_without_the_needed_columns_says_which_are_expected() -> None:
    with pytest.raises(StatementError, match="the header has no amount column"):
        parse_statement(b"date;reference\n06/03/2026;x\n", name="s.csv")


def test_an_xml_that_is_not_camt053_is_refused_by_name() -> None:
    with pytest.raises(StatementError, match=r"not a camt\.053 statement"):
        parse_statement(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', name="p.xml")


def test_an_xml_with_entities_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>'
    with pytest.raises(StatementError, match="refused XML"):
        parse_statement(bomb, name="bomb.xml")


def test_a_broken_xml_is_named() -> None:
    with pytest.raises(StatementError, match=r"b\.xml: not well-formed XML"):
        parse_statement(b"<Document><Stmt>", name="b.xml", format="camt053")
