"""Prometheus metrics of the adapter, on their own registry (one per adapter instance)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class AdapterMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.points_read = Counter(
            "polis_adapter_points_read",
            "Readings produced by polling, by protocol and quality",
            ["protocol", "quality"],
            registry=self.registry,
        )
        self.points_written = Counter(
            "polis_adapter_points_written",
            "Readings accepted by InfluxDB (rate() of this is points/s)",
            registry=self.registry,
        )
        self.poll_latency = Histogram(
            "polis_adapter_poll_latency_seconds",
            "Time to poll one device group",
            ["protocol"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.device_errors = Counter(
            "polis_adapter_device_errors",
            "Failed requests per device",
            ["device", "reason"],
            registry=self.registry,
        )
        self.device_up = Gauge(
            "polis_adapter_device_up",
            "1 when the device answered its last poll; 0 when silent or unreachable",
            ["device"],
            registry=self.registry,
        )
        self.buffer_depth = Gauge(
            "polis_adapter_buffer_depth",
            "Readings waiting in the durable buffer for InfluxDB",
            registry=self.registry,
        )
        self.influx_up = Gauge(
            "polis_adapter_influx_up",
            "1 when the last InfluxDB write succeeded",
            registry=self.registry,
        )
        self.writes = Counter(
            "polis_adapter_command_writes",
            "Command writes by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.bacnet_foreign_registered = Gauge(
            "polis_adapter_bacnet_foreign_registered",
            "1 while the BBMD holds the adapter's foreign-device registration",
            ["bbmd"],
            registry=self.registry,
        )
        self.bacnet_foreign_failures = Counter(
            "polis_adapter_bacnet_foreign_registration_failures",
            "Failed foreign-device registrations by reason (timeout, nak, lost, error)",
            ["bbmd", "reason"],
            registry=self.registry,
        )

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Expose /metrics over HTTP; returns the bound port (0 picks a free one)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)
