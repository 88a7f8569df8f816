"""Connectors, importers, sandbox servers and the push protocol. No Qt here."""
