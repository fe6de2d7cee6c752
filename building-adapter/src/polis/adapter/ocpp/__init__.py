"""OCPP chargers: the adapter as central system (1.6J and 2.0.1) over WebSocket.

Only ``v16`` and ``v201`` import the ``ocpp`` library; ``state`` and ``security`` are pure,
``central`` serves the WebSocket endpoint and ``driver`` is the charger as a Polis driver.
"""
