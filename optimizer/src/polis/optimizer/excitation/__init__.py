"""Excitation: bounded setpoint steps that give a flat zone history the dynamics to learn
from (docs/commissioning.md, Excitation)."""
