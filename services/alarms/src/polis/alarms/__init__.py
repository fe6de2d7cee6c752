"""Polis alarms: rules on live readings, with hysteresis, as pure domain logic.

The engine assesses each rule's subjects from readings it is handed (no I/O here); whoever
runs it (the gateway's leader) fetches the readings, stores the alarms' lifecycle and notifies.
"""
