"""Sandbox servers: stateful fakes of the vendor and PSA APIs for tests and the demo."""
