"""The originate lines of campaign phone contacts: what FreeSWITCH reads, whatever the names hold."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fs_originate import parse_leg, split_line
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from recado_freeswitch.contacts import agent_task_command, message_task_command
from recado_freeswitch.dialstring import DialStringError, caller_name
from recado_freeswitch.source import FreeSwitchConfig

from hub.core.campaigns import PhoneTask
from hub.core.models import Language

LISBON = ZoneInfo("Europe/Lisbon")
AGENT_UID = "11111111-1111-4111-8111-111111111111"
CALLEE_UID = "22222222-2222-4222-8222-222222222222"


def task(**changes: object) -> PhoneTask:
    values: dict[str, object] = {
        "contact_id": 7,
        "campaign_id": 1,
        "campaign_name": "Lembretes",
        "client": "acme",
        "client_name": "Clínica Acme",
        "number": "+351912345678",
        "name": "Maria Silva",
        "language": Language.PT,
        "appointment_at": datetime(2026, 3, 20, 10, 30, tzinfo=LISBON),
        "script": "Olá Maria Silva",
        "mode": "agent",
        "caller_id": "+351217000001",
        "status": "in_progress",
        "agent": "ana",
        "attempts": 1,
    }
    values.update(changes)
    return PhoneTask(**values)  # type: ignore[arg-type]


def read_back(line: str) -> tuple[dict[str, str], str, str]:
    """The first leg's variables and endpoint, and the application, as FreeSWITCH splits the line."""
    words = split_line(line.removeprefix("originate "))
    assert len(words) == 2, words
    variables, endpoint = parse_leg(words[0])
    return variables, endpoint, words[1]


def test_an_agent_task_rings_the_agent_then_bridges_to_the_person_through_the_gateway() -> None:
    line = agent_task_command(task(), "ana", FreeSwitchConfig(gateway="nos"), AGENT_UID, CALLEE_UID)
    assert line == (
        "originate {origination_uuid=" + AGENT_UID + ",origination_caller_id_number=+351912345678,"
        "originate_timeout=30,recado_contact=7,recado_leg=agent,recado_agent=ana,"
        "origination_caller_id_name='Maria Silva'}user/ana "
        "&bridge({origination_uuid=" + CALLEE_UID + ",origination_caller_id_number=+351217000001,"
        "originate_timeout=30,recado_contact=7,recado_leg=callee,recado_client=acme,recado_did=+351217000001,"
        "recado_agent=ana,origination_caller_id_name='Clínica Acme'}sofia/gateway/nos/+351912345678)"
    )


def test_the_person_sees_the_clients_number_as_caller_id() -> None:
    line = agent_task_command(task(caller_id="+351217000011"), "ana", FreeSwitchConfig(), AGENT_UID, CALLEE_UID)
    _variables, _endpoint, application = read_back(line)
    callee, endpoint = parse_leg(application.removeprefix("&bridge(").removesuffix(")"))
    assert callee["origination_caller_id_number"] == "+351217000011"
    assert endpoint == "sofia/gateway/default/+351912345678"


def test_a_message_task_waits_for_a_real_answer_and_plays_the_clients_recording() -> None:
    line = message_task_command(task(mode="message", language=Language.EN), FreeSwitchConfig(), CALLEE_UID)
    variables, endpoint, application = read_back(line)
    assert variables["ignore_early_media"] == "true" and variables["recado_message"] == "campaign"
    assert variables["origination_caller_id_number"] == "+351217000001"
    assert endpoint == "sofia/gateway/default/+351912345678"
    assert application == "&playback(/usr/share/freeswitch/sounds/recado/acme/campaign_en.wav)"


def test_message_files_of_the_config_take_precedence() -> None:
    config = FreeSwitchConfig(message_files={"acme/pt": "campanhas/acme-lembrete.wav", "acme/en": "/srv/en.wav"})
    assert config.message_file("acme", "pt") == "/usr/share/freeswitch/sounds/recado/campanhas/acme-lembrete.wav"
    assert config.message_file("acme", "en") == "/srv/en.wav"
    assert config.message_file("beta", "pt") == "/usr/share/freeswitch/sounds/recado/beta/campaign_pt.wav"


@pytest.mark.parametrize(
    ("fmt", "dialled"), [("e164", "+351912345678"), ("digits", "351912345678"), ("00", "00351912345678")]
)
def test_the_number_is_written_as_the_gateway_wants_it(fmt: str, dialled: str) -> None:
    line = message_task_command(task(), FreeSwitchConfig(number_format=fmt), CALLEE_UID)  # type: ignore[arg-type]
    assert read_back(line)[1] == f"sofia/gateway/default/{dialled}"


def test_a_name_cannot_break_out_of_its_variable() -> None:
    hostile = "Ana', x=1}user/1 &system(id) ${x} [a] \\ ^^:"
    named = task(name=hostile, client_name="Acme, Lda {x}")
    line = agent_task_command(named, "ana", FreeSwitchConfig(), AGENT_UID, CALLEE_UID)
    variables, endpoint, application = read_back(line)
    assert endpoint == "user/ana" and application.startswith("&bridge(")
    assert variables["origination_uuid"] == AGENT_UID
    assert variables["origination_caller_id_name"] == "Ana’ x1user1 systemid x a"
    callee, _endpoint = parse_leg(application.removeprefix("&bridge(").removesuffix(")"))
    assert callee["origination_caller_id_name"] == "Acme Lda x"


def test_an_apostrophe_in_a_name_becomes_a_typographic_one() -> None:
    assert caller_name("Clínica D'Ouro") == "Clínica D’Ouro"


def test_a_long_name_is_cut_to_what_a_phone_shows() -> None:
    assert caller_name("Maria " * 20) == ("Maria " * 9 + "Maria")[:50].strip()


@given(st.text(max_size=80))
def test_whatever_the_names_the_line_keeps_its_shape(name: str) -> None:
    line = agent_task_command(task(name=name, client_name=name), "ana", FreeSwitchConfig(), AGENT_UID, CALLEE_UID)
    variables, endpoint, application = read_back(line)
    assert endpoint == "user/ana"
    assert variables["recado_contact"] == "7" and variables["origination_uuid"] == AGENT_UID
    callee, callee_endpoint = parse_leg(application.removeprefix("&bridge(").removesuffix(")"))
    assert callee_endpoint == "sofia/gateway/default/+351912345678"
    assert callee["recado_leg"] == "callee" and callee["origination_uuid"] == CALLEE_UID
    assert "$" not in line and "\n" not in line


@pytest.mark.parametrize("number", ["912345678", "+351 912 345 678", "+351912345678;evil", "+0912345678", ""])
def test_a_number_that_is_not_e164_is_refused(number: str) -> None:
    with pytest.raises(DialStringError, match=r"expected an E\.164 number"):
        message_task_command(task(number=number), FreeSwitchConfig(), CALLEE_UID)


def test_an_agent_name_that_could_not_be_a_sip_user_is_refused() -> None:
    with pytest.raises(DialStringError, match="agent 'ana bob'"):
        agent_task_command(task(), "ana bob", FreeSwitchConfig(), AGENT_UID, CALLEE_UID)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"gateway": "nos gw"}, "gateway"),
        ({"agent_endpoint": "user/ana"}, "agent_endpoint"),
        ({"agent_endpoint": "user/{agent} &park()"}, "agent_endpoint"),
        ({"message_files": {"acme": "x.wav"}}, "expected '<client id>/<pt or en>'"),
        ({"message_files": {"acme/pt": "my file.wav"}}, "message file 'my file.wav'"),
        ({"message_files": {"acme/pt": "../../etc/passwd"}}, "no '..'"),
    ],
)
def test_outbound_settings_are_checked_when_read(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FreeSwitchConfig.model_validate(settings)
