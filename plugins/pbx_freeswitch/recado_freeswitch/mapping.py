"""FreeSWITCH events to the core's `CallEvent`s.

A call is identified by the Unique-ID of the caller's channel. Its legs are
told apart by what FreeSWITCH stamps on them:

* the caller's leg: an inbound channel (``Call-Direction: inbound``) that is
  not a mod_callcenter agent leg;
* an agent leg: mod_callcenter's originate stamps ``cc_agent`` and
  ``cc_member_session_uuid`` (the caller's Unique-ID) on it;
* an outbound contact: a channel we originated with ``recado_outbound=true``;
* a campaign contact's call: the person's leg carries ``recado_contact=<id>`` and
  ``recado_leg=callee`` and is reported under the call id ``contact-<id>`` (the
  agent's own leg, ``recado_leg=agent``, is the console's business, not a call's).

The DID and client come from the variables the generated dialplan sets
(``recado_did``, ``recado_client``), else from ``Caller-Destination-Number``.

Each call's state is kept so that every kind is emitted once, whether the
news comes from events, from both an agent leg and mod_callcenter, or from a
resync after a reconnect; only forward moves are taken (offered, answered,
bridged with a new agent, ended), so replayed or late events change nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import phonenumbers

from hub.core.models import CallEvent, EventKind

__all__ = ["SOURCE", "CallState", "EventMapper", "HeaderSource"]

SOURCE = "freeswitch"
_KEEP_ENDED = 5000
_MAX_ID = 200  # CallEvent.call_id's limit; FreeSWITCH's ids are 36-character UUIDs


class HeaderSource(Protocol):
    """Anything with decoded headers by name: a `Message`, or a dict from ``uuid_dump``."""

    def get(self, name: str, default: None = None, /) -> str | None:
        """A header's value, or None."""


@dataclass
class CallState:
    """What has been reported of one call so far."""

    call_id: str
    outbound: bool = False
    did: str | None = None
    client: str | None = None
    caller: str | None = None
    agent: str | None = None
    offered: bool = False
    answered: bool = False
    ended: bool = False
    message_played: bool = False
    bridged: set[str] = field(default_factory=set)


def event_time(h: HeaderSource, name: str = "Event-Date-Timestamp") -> datetime:
    """An event's time (microseconds since the epoch), or now when it has none."""
    raw = h.get(name)
    if raw and raw.isdigit() and int(raw) > 0:
        return datetime.fromtimestamp(int(raw) / 1_000_000, UTC)
    return datetime.now(UTC)


def e164(number: str | None) -> str | None:
    """A caller number in E.164 when it reads as one (Portuguese numbering by default)."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, "PT")
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _clean(value: str | None) -> str | None:
    """Values from some FreeSWITCH modules carry trailing spaces; ``_undef_`` means none."""
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", "_undef_") else value


class EventMapper:
    """Turns ESL events (and resync snapshots) into `CallEvent`s, each kind once per call."""

    def __init__(self, source: str = SOURCE, agent_domain: str = "default") -> None:
        self.source = source
        self.agent_domain = agent_domain
        self.calls: OrderedDict[str, CallState] = OrderedDict()
        self._legs: dict[str, tuple[str, str | None]] = {}

    def live_calls(self) -> set[str]:
        """Calls reported and not yet ended."""
        return {cid for cid, state in self.calls.items() if not state.ended}

    def _call(self, call_id: str, *, outbound: bool = False) -> CallState:
        state = self.calls.get(call_id)
        if state is None:
            state = self.calls[call_id] = CallState(call_id, outbound=outbound)
            ended = [cid for cid, s in self.calls.items() if s.ended]
            for cid in ended[: max(0, len(ended) - _KEEP_ENDED)]:
                del self.calls[cid]
        return state

    def _event(self, state: CallState, kind: EventKind, at: datetime, raw: dict[str, Any]) -> CallEvent:
        if state.client:
            raw = {"client": state.client, **raw}
        return CallEvent(
            source=self.source,
            call_id=state.call_id,
            kind=kind,
            at=at,
            did=state.did,
            caller=state.caller,
            agent=state.agent,
            raw=raw,
        )

    def _learn(self, state: CallState, h: HeaderSource) -> None:
        """Take the DID, client and caller a caller leg carries."""
        state.did = _clean(h.get("variable_recado_did")) or state.did
        state.did = state.did or _clean(h.get("Caller-Destination-Number"))
        state.client = _clean(h.get("variable_recado_client")) or state.client
        if not state.outbound:
            state.caller = state.caller or e164(_clean(h.get("Caller-Caller-ID-Number")))

    def _role(self, h: HeaderSource) -> tuple[str, str] | None:
        """(role, call id) of the channel an event is about, or None for legs we ignore."""
        uid = _clean(h.get("Unique-ID"))
        if uid is None or len(uid) > _MAX_ID:
            return None
        contact = _clean(h.get("variable_recado_contact"))
        if contact is not None:
            if not contact.isdigit() or len(contact) > 18 or _clean(h.get("variable_recado_leg")) != "callee":
                return None
            return "outbound", f"contact-{contact}"
        member = _clean(h.get("variable_cc_member_session_uuid"))
        if member and len(member) <= _MAX_ID:
            return "agent", member
        if uid in self._legs:
            return "agent", self._legs[uid][0]
        if _clean(h.get("variable_recado_outbound")) == "true":
            return "outbound", uid
        if (_clean(h.get("Call-Direction")) or "") == "inbound":
            return "caller", uid
        return None

    def map(self, h: HeaderSource) -> list[CallEvent]:
        """The call events one ESL event means (often none)."""
        name = _clean(h.get("Event-Name"))
        if name == "CUSTOM":
            if _clean(h.get("Event-Subclass")) == "callcenter::info":
                return self._callcenter(h)
            return []
        role = self._role(h)
        if name is None or role is None:
            return []
        kind, call_id = role
        at = event_time(h)
        raw: dict[str, Any] = {"event": name, "unique_id": h.get("Unique-ID")}
        if kind == "agent":
            return self._agent_leg(name, call_id, h, at, raw)
        state = self._call(call_id, outbound=kind == "outbound")
        if state.ended:
            return []
        self._learn(state, h)
        if kind == "outbound":
            return self._outbound(name, state, h, at, raw)
        out: list[CallEvent] = []
        if name == "CHANNEL_CREATE" or not state.offered:
            out += self._offer(state, at, raw, h)
        if name == "CHANNEL_BRIDGE":
            leg = _clean(h.get("Bridge-B-Unique-ID")) or _clean(h.get("Other-Leg-Unique-ID"))
            out += self._bridge(state, leg, self._bridged_agent(leg, h), at, raw)
        elif name == "CHANNEL_EXECUTE_COMPLETE":
            message = _clean(h.get("variable_recado_message"))
            played = _clean(h.get("Application")) == "playback" and message is not None
            if played and not state.message_played:
                state.message_played = True
                raw["message"] = message
                out.append(self._event(state, EventKind.MESSAGE_PLAYED, at, raw))
        elif name == "CHANNEL_HANGUP_COMPLETE":
            raw["hangup_cause"] = _clean(h.get("Hangup-Cause"))
            out += self._end(state, at, raw)
        return out

    def _bridged_agent(self, leg: str | None, h: HeaderSource) -> str | None:
        """Who the caller is bridged to: a known agent leg, else the other leg's number.

        The caller's own ``cc_agent`` comes last: after a transfer it still
        names the first agent. Agents are named as mod_callcenter names them,
        ``<id>@<domain>`` (the generated agents answer at ``user/<id>``).
        """
        known = self._legs.get(leg or "", ("", None))[1]
        if known:
            return known
        number = _clean(h.get("Other-Leg-Destination-Number"))
        if number:
            return number if "@" in number else f"{number}@{self.agent_domain}"
        return _clean(h.get("variable_cc_agent"))

    def _offer(
        self, state: CallState, at: datetime, raw: dict[str, Any], h: HeaderSource | None = None
    ) -> list[CallEvent]:
        if state.offered:
            return []
        state.offered = True
        if h is not None:
            # The channel's creation time and caller name, as call control's offer has them.
            if h.get("Caller-Channel-Created-Time"):
                at = event_time(h, "Caller-Channel-Created-Time")
            name = _clean(h.get("Caller-Caller-ID-Name"))
            if name and name != _clean(h.get("Caller-Caller-ID-Number")):
                raw = {**raw, "caller_name": name}
        return [self._event(state, EventKind.OFFERED, at, raw)]

    def _answer(self, state: CallState, agent: str | None, at: datetime, raw: dict[str, Any]) -> list[CallEvent]:
        if state.answered or state.ended:
            return []
        out = self._offer(state, at, raw)
        state.answered = True
        state.agent = agent or state.agent
        return [*out, self._event(state, EventKind.ANSWERED, at, raw)]

    def _bridge(
        self,
        state: CallState,
        leg: str | None,
        agent: str | None,
        at: datetime,
        raw: dict[str, Any],
    ) -> list[CallEvent]:
        if not leg or leg in state.bridged or state.ended:
            return []
        out = self._answer(state, agent, at, raw)
        state.bridged.add(leg)
        state.agent = agent or state.agent
        return [*out, self._event(state, EventKind.BRIDGED, at, raw)]

    def _end(self, state: CallState, at: datetime, raw: dict[str, Any]) -> list[CallEvent]:
        if state.ended:
            return []
        out = self._offer(state, at, raw) if not state.outbound else []
        state.ended = True
        if state.outbound and not state.answered:
            return [self._event(state, EventKind.OUTBOUND_FAILED, at, raw)]
        return [*out, self._event(state, EventKind.ENDED, at, raw)]

    def _agent_leg(
        self, name: str, call_id: str, h: HeaderSource, at: datetime, raw: dict[str, Any]
    ) -> list[CallEvent]:
        uid = _clean(h.get("Unique-ID")) or ""
        agent = _clean(h.get("variable_cc_agent")) or self._legs.get(uid, ("", None))[1]
        self._legs[uid] = (call_id, agent)
        if name in ("CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"):
            self._legs.pop(uid, None)
            return []
        if name != "CHANNEL_ANSWER" and (_clean(h.get("Answer-State")) != "answered"):
            return []
        state = self.calls.get(call_id)
        if state is None:
            return []
        raw["agent_leg"] = uid
        return self._answer(state, agent, at, raw)

    def _outbound(
        self, name: str, state: CallState, h: HeaderSource, at: datetime, raw: dict[str, Any]
    ) -> list[CallEvent]:
        state.caller = state.caller or e164(_clean(h.get("Caller-Destination-Number")))
        state.agent = state.agent or _clean(h.get("variable_recado_agent"))
        out: list[CallEvent] = []
        if not state.offered:
            state.offered = True
            out.append(self._event(state, EventKind.OUTBOUND_STARTED, at, raw))
        answered = name == "CHANNEL_ANSWER" or _clean(h.get("Answer-State")) == "answered"
        if answered and not state.answered and name != "CHANNEL_HANGUP_COMPLETE":
            state.answered = True
            out.append(self._event(state, EventKind.OUTBOUND_ANSWERED, at, raw))
        message = _clean(h.get("variable_recado_message"))
        # Only a message heard to its end counts: a hang-up during it is "PLAYBACK ERROR".
        played = _clean(h.get("Application")) == "playback" and _clean(h.get("Application-Response")) == "FILE PLAYED"
        if name == "CHANNEL_EXECUTE_COMPLETE" and message and played and not state.message_played:
            state.message_played = True
            out.append(self._event(state, EventKind.MESSAGE_PLAYED, at, {**raw, "message": message}))
        if name == "CHANNEL_HANGUP_COMPLETE":
            raw["hangup_cause"] = _clean(h.get("Hangup-Cause"))
            out += self._end(state, at, raw)
        return out

    def _callcenter(self, h: HeaderSource) -> list[CallEvent]:
        """mod_callcenter's callcenter::info: the agent who answered, a caller who gave up."""
        call_id = _clean(h.get("CC-Member-Session-UUID"))
        action = _clean(h.get("CC-Action"))
        if not call_id or call_id not in self.calls:
            return []
        state = self.calls[call_id]
        at = event_time(h)
        raw: dict[str, Any] = {
            "event": f"callcenter::{action}",
            "queue": _clean(h.get("CC-Queue")),
        }
        agent = _clean(h.get("CC-Agent"))
        if action == "bridge-agent-start":
            leg = _clean(h.get("CC-Agent-UUID"))
            if leg:
                self._legs[leg] = (call_id, agent)
            return self._answer(state, agent, at, raw)
        if action == "member-queue-end" and _clean(h.get("CC-Cause")) == "Cancel":
            raw["cause"] = "Cancel"
            return self._end(state, at, raw)
        return []

    def resync(self, channels: list[HeaderSource]) -> tuple[list[CallEvent], set[str]]:
        """Events for what changed while disconnected, from ``uuid_dump`` of each live channel.

        Returns the events (forward moves only) and the calls believed live
        that FreeSWITCH no longer has: they ended while we were away, and are
        ended by `end_missing` once the events queued before the snapshot are in.
        """
        out: list[CallEvent] = []
        present: set[str] = set()
        agents: list[HeaderSource] = []
        for h in channels:
            role = self._role(h)
            if role is None:
                continue
            kind, call_id = role
            present.add(call_id)
            if kind == "agent":
                agents.append(h)
                continue
            state = self._call(call_id, outbound=kind == "outbound")
            if state.ended:
                continue
            self._learn(state, h)
            at = event_time(h, "Caller-Channel-Created-Time")
            raw: dict[str, Any] = {"event": "RESYNC", "unique_id": call_id}
            if kind == "outbound":
                out += self._outbound("RESYNC", state, h, at, raw)
                continue
            out += self._offer(state, at, raw, h)
            agent = _clean(h.get("variable_cc_agent"))
            leg = _clean(h.get("variable_bridge_uuid")) or _clean(h.get("Other-Leg-Unique-ID"))
            if agent and leg:
                out += self._bridge(state, leg, agent, datetime.now(UTC), raw)
            elif agent:
                out += self._answer(state, agent, datetime.now(UTC), raw)
        for h in agents:
            role = self._role(h)
            assert role is not None
            raw = {"event": "RESYNC", "unique_id": h.get("Unique-ID")}
            out += self._agent_leg("RESYNC", role[1], h, datetime.now(UTC), raw)
        return out, self.live_calls() - present

    def end_missing(self, call_ids: set[str]) -> list[CallEvent]:
        """End calls that FreeSWITCH no longer had at the resync (unless ended since)."""
        out: list[CallEvent] = []
        for call_id in sorted(call_ids):
            state = self.calls.get(call_id)
            if state is not None and not state.ended:
                raw = {"event": "RESYNC", "reason": "channel gone while disconnected"}
                out += self._end(state, datetime.now(UTC), raw)
        return out
