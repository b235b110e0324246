"""Recado's email sink: records and notices as emails, over SMTP or into a Maildir."""

from recado_email.config import EmailConfig, SmtpSettings
from recado_email.sink import EmailSink

__all__ = ["EmailConfig", "EmailSink", "SmtpSettings"]
