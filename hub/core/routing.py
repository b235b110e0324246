"""The routing decision for an offered call: the service's rules, with no I/O.

Out of hours → the recorded message (if the client bought it) or no answer;
in hours without balance for the call → refused with the unavailable message;
otherwise answered in the client's queue, in the caller's language, with the
client's preferred agents first.
"""

from __future__ import annotations

from datetime import datetime

from hub.core.clients import Client
from hub.core.contract_state import REFUSAL_REASON
from hub.core.hours import BusinessHours
from hub.core.models import Disposition, Language, RouteAction, RouteDecision


def caller_language(caller: str | None, client: Client) -> Language:
    """Portuguese for Portuguese numbers (and unknown ones), English for others if offered."""
    if Language.EN not in client.languages:
        return Language.PT
    if caller and not caller.startswith("+351") and caller.startswith("+"):
        return Language.EN
    return Language.PT if Language.PT in client.languages else Language.EN


def _refuse(
    call_id: str,
    client: Client,
    language: Language,
    disposition: Disposition,
    *,
    reason: str,
    price_cents: int = 0,
) -> RouteDecision:
    """A refusal that plays the client's unavailable message in the caller's language."""
    return RouteDecision(
        call_id=call_id,
        client=client.id,
        action=RouteAction.REFUSE,
        disposition=disposition,
        language=language,
        message=f"{client.id}/unavailable_{language.value}",
        price_cents=price_cents,
        reason=reason,
    )


def route(
    call_id: str,
    at: datetime,
    caller: str | None,
    client: Client,
    hours: BusinessHours,
    *,
    available_cents: int,
    price_cents: int,
    blocked: bool = False,
    contract_ended: bool = False,
) -> RouteDecision:
    """What to do with a call offered at `at` to `client`, whose next call costs `price_cents`.

    A caller the client blocked is refused before anything else, free. Once the client's
    contract has ended the service stops: every call is refused (free), out of hours too.
    """
    language = caller_language(caller, client)
    if blocked:
        return _refuse(call_id, client, language, Disposition.BLOCKED, reason="the client blocked this number")
    if contract_ended:
        return _refuse(call_id, client, language, Disposition.REFUSED_NO_BALANCE, reason=REFUSAL_REASON)
    if not hours.is_open(at):
        with_message = client.recorded_message != "none"
        if client.recorded_message == "pt":
            language = Language.PT
        return RouteDecision(
            call_id=call_id,
            client=client.id,
            action=RouteAction.PLAY_MESSAGE if with_message else RouteAction.NOT_ANSWERED,
            disposition=Disposition.AFTER_HOURS,
            language=language,
            message=f"{client.id}/after_hours_{language.value}" if with_message else None,
            reason=hours.closed_reason(at) or "closed",
        )
    if available_cents < price_cents:
        return _refuse(
            call_id,
            client,
            language,
            Disposition.REFUSED_NO_BALANCE,
            reason=f"available balance {available_cents} cents is below {price_cents}",
            price_cents=price_cents,
        )
    return RouteDecision(
        call_id=call_id,
        client=client.id,
        action=RouteAction.ANSWER,
        language=language,
        queue=client.id,
        preferred_agents=list(client.agents.preferred),
        agent_gender=client.agents.gender,
        price_cents=price_cents,
    )
