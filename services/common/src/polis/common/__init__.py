"""Shared library of the Polis services.

Settings, logging, the virtual clock, gRPC bootstrap and InfluxDB access.
"""
