"""``recado freeswitch decode|check|config`` through the real ``recado`` application."""

from __future__ import annotations

import asyncio
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fs_captures import FIXTURES
from fs_esl_emulator import EmulatedFreeSwitch
from recado_freeswitch.wire import frame, serialize_event_plain
from typer.testing import CliRunner

from hub.cli import build_app
from hub.core import directory
from hub.core.store import Store
from hub.plugins import Plugins

CLIENTS = """
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001", "+351217000009"]
    languages: [pt, en]
    agents: {preferred: [ana], gender: female}
    recorded_message: pt+en
  - id: beta
    name: "Beta Lda"
    nif: "510000002"
    dids: ["+351217000002"]
    languages: [pt]
"""

AGENTS = """
agents:
  - {id: ana, gender: female}
  - {id: rita, gender: female}
  - {id: rui, gender: male}
"""


@pytest.fixture
def recado() -> Iterator[tuple[CliRunner, object]]:
    yield CliRunner(), build_app(Plugins(only={"freeswitch", "email"}))


@pytest.fixture
def switch() -> Iterator[EmulatedFreeSwitch]:
    """The emulator on its own event loop thread (the command runs its own loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fs = EmulatedFreeSwitch(password="s3cret")
    fs.queues = ["acme@default", "beta@default"]
    asyncio.run_coroutine_threadsafe(fs.start(), loop).result()
    yield fs
    asyncio.run_coroutine_threadsafe(fs.stop(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def run(recado: tuple[CliRunner, object], *args: str) -> tuple[int, str, str]:
    runner, app = recado
    result = runner.invoke(app, list(args))  # type: ignore[arg-type]
    return result.exit_code, result.stdout, result.stderr


def test_decode_prints_one_json_object_per_message(recado: tuple[CliRunner, object]) -> None:
    code, out, _ = run(recado, "freeswitch", "decode", str(FIXTURES / "switchio_eventstream1.txt"))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0] == {"content_type": "auth/request", "headers": {"Content-Type": "auth/request"}, "body": None}
    assert lines[4]["content_type"] == "text/event-plain"
    assert lines[4]["headers"]["Event-Name"] == "CHANNEL_CREATE"
    assert set(lines[4]) == {"content_type", "headers", "body"}


def test_decode_percent_decodes_event_headers(recado: tuple[CliRunner, object], tmp_path: Path) -> None:
    capture = tmp_path / "session.bin"
    capture.write_bytes(
        frame("text/event-plain", serialize_event_plain({"Event-Name": "CUSTOM", "Who": "João Câmara"}))
    )
    code, out, _ = run(recado, "freeswitch", "decode", str(capture))
    assert code == 0
    assert json.loads(out)["headers"]["Who"] == "João Câmara"


def test_decode_of_a_broken_capture_names_file_and_byte(recado: tuple[CliRunner, object], tmp_path: Path) -> None:
    capture = tmp_path / "broken.bin"
    capture.write_bytes(frame("auth/request") + b"Content-Length: x\nContent-Type: api/response\n\n")
    code, out, err = run(recado, "freeswitch", "decode", str(capture))
    assert code == 1
    assert json.loads(out)["content_type"] == "auth/request"
    where = f"byte {len(frame('auth/request'))}"
    assert "broken.bin" in err and where in err and "Content-Length 'x'" in err


def test_check_reports_version_and_queues(recado: tuple[CliRunner, object], switch: EmulatedFreeSwitch) -> None:
    code, out, _ = run(recado, "freeswitch", "check", "--port", str(switch.port), "--password", "s3cret")
    assert code == 0
    assert "FreeSWITCH Version 1.10.12" in out
    assert "acme@default, beta@default" in out


def test_check_with_a_wrong_password_says_so(recado: tuple[CliRunner, object], switch: EmulatedFreeSwitch) -> None:
    code, _, err = run(recado, "freeswitch", "check", "--port", str(switch.port), "--password", "no")
    assert code == 1
    assert "refused the login" in err and "no)" not in err


def test_check_without_a_switch_says_where_it_tried(recado: tuple[CliRunner, object]) -> None:
    code, _, err = run(recado, "freeswitch", "check", "--port", "1", "--timeout", "1")
    assert code == 1
    assert "127.0.0.1:1" in err


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'recado.db'}"
    store = Store(url)
    directory.apply_file(store, Plugins(only={"email"}).registry, tmp_path / "c.yaml", text=CLIENTS)
    store.dispose()
    yield url


def test_config_writes_well_formed_dialplan_queues_and_sound_lists(
    recado: tuple[CliRunner, object], database: str, tmp_path: Path
) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text(AGENTS)
    out = tmp_path / "fs"
    code, stdout, err = run(
        recado, "--db", database, "freeswitch", "config", "--out", str(out), "--agents", str(agents)
    )
    assert code == 0, err
    dialplan = ET.parse(out / "dialplan" / "recado.xml").getroot()
    extensions = dialplan.findall("./context/extension")
    assert len(extensions) == 3
    acme = extensions[0]
    actions = [(a.get("application"), a.get("data")) for a in acme.iter("action")]
    assert actions == [
        ("set", "recado_did=+351217000001"),
        ("set", "recado_client=acme"),
        ("socket", "127.0.0.1:8084 async full"),
    ]
    assert acme.find("condition").get("expression") == r"^(?:\+|00)?(?:351)?217000001$"  # type: ignore[union-attr]
    callcenter = ET.parse(out / "autoload_configs" / "callcenter.conf.xml").getroot()
    assert [q.get("name") for q in callcenter.iter("queue")] == ["acme@default", "beta@default"]
    acme_tiers = {t.get("agent"): t.get("level") for t in callcenter.iter("tier") if t.get("queue") == "acme@default"}
    assert acme_tiers == {"ana@default": "1", "rita@default": "2", "rui@default": "3"}
    sounds = (out / "sounds" / "acme.txt").read_text()
    assert "/usr/share/freeswitch/sounds/recado/acme/after_hours_en.wav" in sounds
    assert "wrote " in stdout


def test_config_with_a_bad_agents_file_names_the_field(
    recado: tuple[CliRunner, object], database: str, tmp_path: Path
) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  - {id: ana, gender: robot}\n")
    code, _, err = run(
        recado, "--db", database, "freeswitch", "config", "--out", str(tmp_path), "--agents", str(agents)
    )
    assert code == 2
    assert "agents.yaml: agents.0.gender" in err
