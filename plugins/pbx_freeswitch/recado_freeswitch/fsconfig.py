"""FreeSWITCH configuration generated from the clients: dialplan, callcenter queues, sound lists.

* ``dialplan/recado.xml``: one extension per DID in the ``public`` context; it
  stamps ``recado_did`` and ``recado_client`` on the channel and hands the call
  to call control with ``socket <host>:<port> async full``.
* ``autoload_configs/callcenter.conf.xml``: a queue ``<client>@<domain>`` per
  client; its preferred agents on tier 1, agents of the voice the client asked
  for on tier 2, the other agents on tier 3 (so a call is still answered).
* ``sounds/<client>.txt``: the sound files call control plays for the client.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.core.clients import Client

__all__ = ["Agent", "AgentsFile", "GeneratorSettings", "load_agents", "write_config"]


class Agent(BaseModel):
    """One agent of the answering service, as mod_callcenter knows them."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    gender: Literal["female", "male", "unknown"] = "unknown"
    contact: str | None = None


class AgentsFile(BaseModel):
    """The ``--agents`` file: ``agents: [{id, gender, contact}]``."""

    model_config = ConfigDict(extra="forbid")

    agents: list[Agent]


@dataclass(frozen=True)
class GeneratorSettings:
    """Where call control listens and how FreeSWITCH names things."""

    socket_host: str = "127.0.0.1"
    socket_port: int = 8084
    domain: str = "default"
    context: str = "public"
    sounds_dir: str = "/usr/share/freeswitch/sounds/recado"
    sound_ext: str = "wav"


def load_agents(path: Path) -> list[Agent]:
    """Read an agents file (YAML); errors name the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return AgentsFile.model_validate(data).agents
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{path}: {where}: {first['msg']}") from None


def did_expression(did: str) -> str:
    """The destination_number regex of a DID: E.164, with 00 or without the country code."""
    number = phonenumbers.parse(did)
    national = phonenumbers.national_significant_number(number)
    return rf"^(?:\+|00)?(?:{number.country_code})?{national}$"


def _indent(element: ET.Element) -> bytes:
    ET.indent(element, space="  ")
    text: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def dialplan(clients: Sequence[Client], settings: GeneratorSettings) -> bytes:
    """The dialplan include with one extension per DID."""
    include = ET.Element("include")
    context = ET.SubElement(include, "context", name=settings.context)
    for client in clients:
        for did in client.dids:
            extension = ET.SubElement(context, "extension", name=f"recado_{client.id}_{did.lstrip('+')}")
            condition = ET.SubElement(
                extension, "condition", field="destination_number", expression=did_expression(did)
            )
            for data in (f"recado_did={did}", f"recado_client={client.id}"):
                ET.SubElement(condition, "action", application="set", data=data)
            ET.SubElement(
                condition,
                "action",
                application="socket",
                data=f"{settings.socket_host}:{settings.socket_port} async full",
            )
    return _indent(include)


def tiers(client: Client, agents: Sequence[Agent]) -> list[tuple[str, int]]:
    """(agent id, tier level) for a client's queue, preferred agents first."""
    preferred = list(client.agents.preferred)
    out = [(agent, 1) for agent in preferred]
    wanted = client.agents.gender
    for agent in agents:
        if agent.id in preferred:
            continue
        level = 2 if wanted == "any" or agent.gender == wanted else 3
        out.append((agent.id, level))
    return out


def callcenter(clients: Sequence[Client], agents: Sequence[Agent], settings: GeneratorSettings) -> bytes:
    """``callcenter.conf.xml``: a queue per client, every agent, and the tiers."""
    domain = settings.domain
    root = ET.Element("configuration", name="callcenter.conf", description="CallCenter")
    ET.SubElement(root, "settings")
    queues = ET.SubElement(root, "queues")
    queue_params = {
        "strategy": "longest-idle-agent",
        "moh-sound": "$${hold_music}",
        "time-base-score": "system",
        "tier-rules-apply": "true",
        "tier-rule-wait-second": "10",
        "tier-rule-wait-multiply-level": "true",
        "tier-rule-no-agent-no-wait": "true",
        "discard-abandoned-after": "60",
        "abandoned-resume-allowed": "false",
        "max-wait-time": "0",
    }
    for client in clients:
        queue = ET.SubElement(queues, "queue", name=f"{client.id}@{domain}")
        for name, value in queue_params.items():
            ET.SubElement(queue, "param", name=name, value=value)
    known = {agent.id: agent for agent in agents}
    for client in clients:
        for agent_id in client.agents.preferred:
            known.setdefault(agent_id, Agent(id=agent_id))
    agents_el = ET.SubElement(root, "agents")
    for agent in known.values():
        attributes = {
            "name": f"{agent.id}@{domain}",
            "type": "callback",
            "contact": agent.contact or f"[call_timeout=20]user/{agent.id}",
            "status": "Available",
            "max-no-answer": "3",
            "wrapup-time": "10",
            "reject-delay-time": "10",
            "busy-delay-time": "30",
            "no-answer-delay-time": "10",
        }
        ET.SubElement(agents_el, "agent", attributes)
    tiers_el = ET.SubElement(root, "tiers")
    for client in clients:
        for position, (agent_id, level) in enumerate(tiers(client, list(known.values())), 1):
            ET.SubElement(
                tiers_el,
                "tier",
                agent=f"{agent_id}@{domain}",
                queue=f"{client.id}@{domain}",
                level=str(level),
                position=str(position),
            )
    return _indent(root)


def sound_files(client: Client, settings: GeneratorSettings) -> list[tuple[str, str]]:
    """(path, what it says) of every recording call control may play for the client."""
    base = f"{settings.sounds_dir}/{client.id}"
    ext = settings.sound_ext
    out: list[tuple[str, str]] = []
    if client.recorded_message != "none":
        out.append((f"{base}/after_hours_pt.{ext}", "out-of-hours message, Portuguese"))
    if client.recorded_message == "pt+en":
        out.append((f"{base}/after_hours_en.{ext}", "out-of-hours message, English"))
    for language in client.languages:
        name = "Portuguese" if language.value == "pt" else "English"
        out.append((f"{base}/unavailable_{language.value}.{ext}", f"service unavailable, {name}"))
    return out


def write_config(
    out: Path,
    clients: Sequence[Client],
    agents: Sequence[Agent],
    settings: GeneratorSettings,
) -> list[Path]:
    """Write every generated file under ``out``; returns the paths written."""
    files = {
        out / "dialplan" / "recado.xml": dialplan(clients, settings),
        out / "autoload_configs" / "callcenter.conf.xml": callcenter(clients, agents, settings),
    }
    for client in clients:
        lines = [f"{path}\t{what}\n" for path, what in sound_files(client, settings)]
        files[out / "sounds" / f"{client.id}.txt"] = "".join(lines).encode("utf-8")
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return list(files)
