"""The web side of Recado: REST API, client portal, operator dashboard and agent console.

Nothing in `hub.core` imports this package: the core runs without a web server.
"""
