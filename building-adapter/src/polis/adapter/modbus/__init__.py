"""Modbus TCP: device profiles, read planning and decoding, and the one module owning pymodbus."""
