"""Maildir mode (the demo's mailbox): standard Maildir, one file per delivery, replay-safe."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

from recado_email import EmailConfig, EmailSink

from hub.core.models import Delivered
from hub.testing import make_batch, make_delivery, sample_client


def maildir_sink(path: Path) -> EmailSink:
    return EmailSink(EmailConfig(to=["rececao@acme.example"], maildir=path))


async def test_record_lands_in_a_maildir_that_mail_readers_open(tmp_path: Path) -> None:
    delivery = make_delivery()

    [outcome] = await maildir_sink(tmp_path / "mail").deliver([delivery])

    assert isinstance(outcome, Delivered)
    [message] = list(mailbox.Maildir(tmp_path / "mail", create=False))
    assert message["Message-ID"] == f"<{delivery.idempotency_key}@acme.recado>"
    assert message["Subject"].startswith("Chamada de +351 912 345 678")
    assert message.is_multipart()


async def test_replaying_a_record_adds_no_copy(tmp_path: Path) -> None:
    sink = maildir_sink(tmp_path / "mail")
    batch = make_batch(3)
    for delivery in batch:
        await sink.deliver([delivery])

    again = [(await sink.deliver([d]))[0] for d in batch]

    assert all(isinstance(o, Delivered) and o.detail == "already in the Maildir" for o in again)
    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 3


async def test_replay_after_the_reader_moved_the_email_to_cur_adds_no_copy(
    tmp_path: Path,
) -> None:
    sink = maildir_sink(tmp_path / "mail")
    delivery = make_delivery()
    await sink.deliver([delivery])
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    [key] = box.keys()
    message = box[key]
    message.set_subdir("cur")
    message.add_flag("S")
    box[key] = message  # what a mail reader does when the email is read

    await sink.deliver([delivery])

    assert os.listdir(tmp_path / "mail" / "new") == []
    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 1


async def test_the_same_notice_for_two_clients_sharing_a_maildir_is_stored_twice(
    tmp_path: Path,
) -> None:
    sink = maildir_sink(tmp_path / "mail")
    key = "notice:service_interrupted:2026-06-15T09:12:00+00:00"
    for client in ("acme", "padaria-lopes"):
        notice = make_delivery(kind="notice", client=sample_client(id=client))
        await sink.deliver([notice.model_copy(update={"idempotency_key": key})])

    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 2


async def test_check_reports_a_writable_maildir(tmp_path: Path) -> None:
    health = await maildir_sink(tmp_path / "mail").check()

    assert health.ok, health.detail


async def test_check_reports_a_maildir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")

    health = await maildir_sink(tmp_path / "file" / "mail").check()

    assert not health.ok
    assert "cannot create the Maildir" in health.detail
