"""The engine of Recado: rules, ledger, records and the outbox. Imports no plugin."""
