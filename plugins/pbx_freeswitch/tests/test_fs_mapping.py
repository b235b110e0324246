"""FreeSWITCH events (real captures, decoded as received) to the core's call events."""

from __future__ import annotations

from datetime import UTC, datetime

from fs_captures import read_capture
from recado_freeswitch.mapping import EventMapper
from recado_freeswitch.protocol import Message, Parser
from recado_freeswitch.wire import frame, serialize_event_plain

from hub.core.models import EventKind

CALL = "e260ffd0-a731-11df-9341-e7d9456f8886"  # CC-Member-Session-UUID of the Cancel capture


def received(pairs: list[tuple[str, str]]) -> Message:
    """An event as the parser hands it over after FreeSWITCH sent it."""
    (message,) = Parser().feed(frame("text/event-plain", serialize_event_plain(pairs)))
    return message


def capture(name: str, **changes: str) -> Message:
    """A capture with some headers replaced or added (``variable_x`` style names)."""
    pairs = read_capture(name)
    names = {n for n, _ in pairs}
    pairs = [(n, changes.get(n.replace("-", "_"), v)) for n, v in pairs]
    pairs += [(n, v) for n, v in changes.items() if n not in names and n.replace("_", "-") not in names]
    return received(pairs)


def created(mapper: EventMapper, uid: str = CALL, **changes: str) -> list:
    return mapper.map(capture("webitel_CHANNEL_CREATE.txt", Unique_ID=uid, **changes))


def test_channel_create_of_a_caller_is_an_offer_with_did_caller_and_time() -> None:
    (offer,) = created(EventMapper())
    assert offer.kind is EventKind.OFFERED
    assert offer.call_id == CALL
    assert offer.did == "100"  # Caller-Destination-Number when the dialplan stamped nothing
    assert offer.caller == "9999"
    assert offer.at == datetime.fromtimestamp(1468571895627235 / 1e6, UTC)
    assert offer.source == "freeswitch"


def test_dialplan_variables_give_did_and_client() -> None:
    (offer,) = created(EventMapper(), variable_recado_did="+351217000001", variable_recado_client="acme")
    assert offer.did == "+351217000001"
    assert offer.raw["client"] == "acme"


def test_callcenter_bridge_agent_start_capture_answers_with_the_agent() -> None:
    mapper = EventMapper()
    created(mapper, "c6360976-231c-43c6-bda7-7ac4c7d1c125")
    (answered,) = mapper.map(capture("fsdocs_callcenter_bridge-agent-start.txt"))
    assert answered.kind is EventKind.ANSWERED
    assert answered.call_id == "c6360976-231c-43c6-bda7-7ac4c7d1c125"
    assert answered.agent == "AgentNameHere"
    assert answered.raw["queue"] == "support@default"


def test_caller_leaving_the_queue_unanswered_capture_ends_the_call() -> None:
    mapper = EventMapper()
    created(mapper)
    (ended,) = mapper.map(capture("fsdocs_callcenter_member-queue-end_2.txt"))
    assert ended.kind is EventKind.ENDED
    assert ended.raw["cause"] == "Cancel"


def test_member_queue_end_after_an_agent_call_waits_for_the_hangup() -> None:
    mapper = EventMapper()
    created(mapper, "b77c49c2-a732-11df-9438-e7d9456f8886")
    assert mapper.map(capture("fsdocs_callcenter_member-queue-end.txt")) == []


def test_agent_offering_capture_with_trailing_spaces_is_only_information() -> None:
    mapper = EventMapper()
    created(mapper, "600165a4-f748-11df-afdd-b386769690cd")
    assert mapper.map(capture("fsdocs_callcenter_agent-offering.txt")) == []


def test_hangup_complete_ends_the_call_with_its_cause() -> None:
    mapper = EventMapper()
    created(mapper)
    (ended,) = mapper.map(
        capture(
            "webitel_CHANNEL_DESTROY.txt",
            Unique_ID=CALL,
            Event_Name="CHANNEL_HANGUP_COMPLETE",
            Hangup_Cause="NORMAL_CLEARING",
        )
    )
    assert ended.kind is EventKind.ENDED
    assert ended.raw["hangup_cause"] == "NORMAL_CLEARING"


def test_each_kind_is_reported_once_when_events_repeat() -> None:
    mapper = EventMapper()
    created(mapper)
    bridge = capture(
        "webitel_CHANNEL_BRIDGE.txt",
        Unique_ID=CALL,
        Bridge_A_Unique_ID=CALL,
        Other_Leg_Destination_Number="ana",
    )
    first = mapper.map(bridge)
    assert [e.kind for e in first] == [EventKind.ANSWERED, EventKind.BRIDGED]
    assert first[0].agent == "ana@default"
    assert mapper.map(bridge) == []
    assert created(mapper) == []


def test_agent_leg_answer_answers_the_callers_call() -> None:
    mapper = EventMapper()
    created(mapper)
    leg = capture(
        "webitel_CHANNEL_CREATE.txt",
        Unique_ID="leg-1",
        Event_Name="CHANNEL_ANSWER",
        Call_Direction="outbound",
        variable_cc_agent="rui@default",
        variable_cc_member_session_uuid=CALL,
    )
    (answered,) = mapper.map(leg)
    assert answered.call_id == CALL and answered.agent == "rui@default"


def test_outbound_leg_that_is_not_ours_is_ignored() -> None:
    event = capture("webitel_CHANNEL_CREATE.txt", Call_Direction="outbound")
    assert EventMapper().map(event) == []


def test_message_playback_completion_is_message_played() -> None:
    mapper = EventMapper()
    created(mapper)
    done = capture(
        "webitel_CHANNEL_CREATE.txt",
        Unique_ID=CALL,
        Event_Name="CHANNEL_EXECUTE_COMPLETE",
        Application="playback",
        variable_recado_message="acme/after_hours_pt",
    )
    (played,) = mapper.map(done)
    assert played.kind is EventKind.MESSAGE_PLAYED
    assert played.raw["message"] == "acme/after_hours_pt"


def test_resync_reports_an_unknown_answered_call_and_ends_vanished_ones() -> None:
    mapper = EventMapper()
    created(mapper, "gone")
    live = {
        "Unique-ID": "live",
        "Call-Direction": "inbound",
        "Caller-Destination-Number": "+351217000001",
        "Caller-Caller-ID-Number": "+351912345678",
        "Caller-Channel-Created-Time": "1468571895627235",
        "variable_cc_agent": "ana@default",
        "variable_bridge_uuid": "leg-9",
    }
    events, missing = mapper.resync([live])
    assert [e.kind for e in events] == [EventKind.OFFERED, EventKind.ANSWERED, EventKind.BRIDGED]
    assert missing == {"gone"}
    (ended,) = mapper.end_missing(missing)
    assert ended.call_id == "gone" and ended.kind is EventKind.ENDED
    assert mapper.resync([live])[0] == []
