"""The `recado` command line, one module per command group."""
