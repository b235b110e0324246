"""FreeSWITCH source for Recado: ESL client, call control and configuration generation."""

__version__ = "0.1.0"
