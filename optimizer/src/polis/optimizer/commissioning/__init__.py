"""Commissioning: learn a building's zone models from its measured history and write them
into the catalogue (``python -m polis.optimizer commission``; docs/commissioning.md)."""
