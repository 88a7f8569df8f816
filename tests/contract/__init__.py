"""Contract tests: sandbox servers and fakes checked against the reference specs."""
