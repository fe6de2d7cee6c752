"""The gateway's use cases: what each API operation does, over domain types.

Routes (``polis.gateway.api.routes``) parse requests and format answers; the functions here
check authorisation and input against the catalogue, call the internal services through the
ports in ``ports`` (implemented by ``polis.gateway.peers``, which alone speaks protobuf), write
the gateway's state, the audit log and webhook events in one transaction, and take every
domain timestamp from the shared Polis clock (``polis.common.clock``).
"""
