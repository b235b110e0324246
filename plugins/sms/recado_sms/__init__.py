"""Recado's SMS plugin (distribution ``recado-sms``).

- The ``sms`` sink (`recado_sms.sink`) sends the text of outbound SMS records through
  a generic HTTP SMS gateway: JSON over HTTPS with a Bearer token and an
  ``Idempotency-Key``, from the destination's sender id, after counting the GSM-7 or
  UCS-2 segments the text takes (`recado_sms.encoding`).
- The ``sms_reports`` source (`recado_sms.source`) turns the gateway's signed delivery
  reports and the recipients' replies, posted to ``POST /sms/reports`` of the hub's web
  server (`recado_sms.routes`), into ``sms_delivered`` / ``sms_failed`` events.

See docs/sms.md for configuration and examples.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
