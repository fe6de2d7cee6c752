"""BACnet/IP: the one module owning bacpypes3 (client.py), the device driver and discovery."""
