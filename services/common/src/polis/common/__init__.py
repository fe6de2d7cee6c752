"""Shared library of the Polis services: settings, logging, clock, gRPC bootstrap, InfluxDB access."""
