"""``originate`` in the ESL emulator: the line read as FreeSWITCH reads it, phones that answer or not.

The command line is split on spaces outside single quotes, then each piece loses
its quotes and backslash escapes (``switch_separate_string`` and
``cleanup_separated_string``); the ``{…}`` block is split on commas into channel
variables. The first leg rings its destination (``user/<agent>`` or
``sofia/gateway/<gw>/<number>``); when it answers, the job's result is
``+OK <uuid>`` and the application runs: ``&park()``, ``&playback(file)``
(``FILE PLAYED``, or ``FILE NOT FOUND`` for a file in ``missing_files``, then the
hang-up), or ``&bridge({…}endpoint)``, which rings the second leg and bridges it.
Each destination behaves as ``phones`` says: ``answer`` (the default),
``no_answer``, ``busy`` or ``unregistered`` (no channel at all).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fs_channels import Channel

#: The job result and hang-up cause of each way a phone does not answer.
CAUSES = {"no_answer": "NO_ANSWER", "busy": "USER_BUSY", "unregistered": "USER_NOT_REGISTERED"}


def split_line(line: str) -> list[str]:
    """Split on spaces outside single quotes, then drop the quotes and escapes, as FreeSWITCH does."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "'":
            quoted = not quoted
        elif char == " " and not quoted:
            if current:
                parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current))
    return parts


def parse_leg(dial: str) -> tuple[dict[str, str], str]:
    """The channel variables and endpoint of ``{k=v,…}endpoint``."""
    variables: dict[str, str] = {}
    match = re.match(r"^\{([^}]*)\}(.*)$", dial)
    if match:
        for item in match.group(1).split(","):
            key, _, value = item.partition("=")
            variables[key] = value
        dial = match.group(2)
    return variables, dial


class OriginateMixin:
    """Outbound calls of the emulated switch."""

    channels: dict[str, Channel]
    originate_answers: bool
    #: How each destination (agent id or number) takes a call: answer, no_answer, busy, unregistered.
    phones: dict[str, str]
    #: Sound files the switch does not have.
    missing_files: set[str]
    #: Destinations whose person hangs up while the message plays.
    hang_up_during_message: set[str]
    _after_originate: dict[str, Callable[[], Awaitable[None]]]
    fire: Callable[..., Awaitable[None]]
    answer: Callable[[Channel], Awaitable[None]]
    hangup: Callable[..., Awaitable[None]]
    _bridge: Callable[[Channel, Channel], Awaitable[None]]
    _spawn: Callable[[Awaitable[None]], Any]

    def _behaviour(self, destination: str) -> str:
        if not self.originate_answers:
            return "no_answer"
        return self.phones.get(destination, "answer")

    async def _ring(self, dial: str) -> tuple[Channel | None, str]:
        """Ring one leg; the channel (None when none was made) and the behaviour of its phone."""
        variables, endpoint = parse_leg(dial)
        destination = endpoint.rsplit("/", 1)[-1]
        behaviour = self._behaviour(destination)
        if behaviour == "unregistered":
            return None, behaviour
        chan = Channel(
            destination=destination,
            caller=variables.get("origination_caller_id_number", "0000"),
            caller_name=variables.get("origination_caller_id_name", ""),
            direction="outbound",
            variables=variables,
        )
        if variables.get("origination_uuid"):
            chan.uuid = variables["origination_uuid"]
        self.channels[chan.uuid] = chan
        await self.fire("CHANNEL_CREATE", channel=chan)
        if behaviour == "answer":
            await self.answer(chan)
        else:
            await self.hangup(chan, CAUSES[behaviour])
        return chan, behaviour

    async def _originate(self, arg: str) -> str:
        words = split_line(arg)
        if not words:
            return "-USAGE: <call url> <exten>|&<application_name>(<app_args>)\n"
        chan, behaviour = await self._ring(words[0])
        if chan is None or behaviour != "answer":
            return f"-ERR {CAUSES.get(behaviour, 'NO_ANSWER')}\n"
        app = words[1] if len(words) > 1 else "&park()"
        self._after_originate[chan.uuid] = lambda: self._run_originated(chan, app)
        return f"+OK {chan.uuid}\n"

    def start_originated(self, output: str) -> None:
        """Run the application of a call whose originate result was just reported."""
        uid = output.removeprefix("+OK").strip()
        after = self._after_originate.pop(uid, None)
        if after is not None:
            self._spawn(after())

    async def _run_originated(self, chan: Channel, app: str) -> None:
        match = re.match(r"^&(\w+)\((.*)\)$", app)
        name, data = (match.group(1), match.group(2)) if match else ("park", "")
        if name == "playback":
            info = [("Application", "playback"), ("Application-Data", data)]
            await self.fire("CHANNEL_EXECUTE", info, chan)
            if data in self.missing_files:
                response = "FILE NOT FOUND"
            elif chan.destination in self.hang_up_during_message:
                response = "PLAYBACK ERROR"
            else:
                response = "FILE PLAYED"
            await self.fire("CHANNEL_EXECUTE_COMPLETE", [*info, ("Application-Response", response)], chan)
            await self.hangup(chan, "NORMAL_CLEARING")
        elif name == "bridge":
            leg, behaviour = await self._ring(data)
            if leg is not None and behaviour == "answer":
                await self._bridge(chan, leg)
                return
            # The bridge failed and nothing else is left to run: the first leg hangs up too.
            await self.hangup(chan, CAUSES.get(behaviour, "NORMAL_CLEARING"))

    def leg(self, contact_id: int, role: str) -> Channel | None:
        """The live leg of a contact's call (``agent`` or ``callee``), or None."""
        for chan in self.channels.values():
            if chan.variables.get("recado_contact") == str(contact_id) and chan.variables.get("recado_leg") == role:
                return chan
        return None
