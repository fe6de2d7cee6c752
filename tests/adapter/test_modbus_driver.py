from __future__ import annotations

import asyncio

import pytest

from adapter.fake_modbus import FakeModbusServer, FakeUnit, float32_words, int32_words
from polis.adapter.driver import PartialScrape
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.modbus.client import EndpointPool
from polis.adapter.modbus.driver import ModbusDriver
from polis.adapter.model import Quality, Reading
from polis.adapter.normalise import PointNormaliser, QualityRules
from polis.adapter.poller import DevicePoller
from polis.common.catalogue.devices import ModbusDeviceConfig

pytestmark = pytest.mark.integration


def device(port: int, profile: str, unit_id: int = 1, **kw: object) -> ModbusDeviceConfig:
    return ModbusDeviceConfig.model_validate(
        {
            "protocol": "modbus",
            "id": f"meter-{unit_id}",
            "host": "127.0.0.1",
            "port": port,
            "unit_id": unit_id,
            "profile": profile,
            "timeout_s": 0.5,
            "retries": 0,
            **kw,
        }
    )


def sdm630_unit(power_w: float, import_kwh: float) -> FakeUnit:
    unit = FakeUnit()
    for address in range(0, 0x15E + 2):
        unit.input[address] = 0
    unit.set_words("input", 0x34, float32_words(power_w))
    unit.set_words("input", 0x48, float32_words(import_kwh))
    return unit


def em24_unit(power_w: float, import_kwh: float) -> FakeUnit:
    unit = FakeUnit()
    for address in range(0, 0x52):  # the profile's one block: 0x0000 to the kvarh(-) counter
        unit.holding[address] = 0
    unit.set_words("holding", 0x28, int32_words(round(power_w * 10), "little"))
    unit.set_words("holding", 0x34, int32_words(round(import_kwh * 10), "little"))
    return unit


async def test_units_behind_one_gateway_share_a_connection(
    modbus_server: FakeModbusServer,
) -> None:
    modbus_server.units[1] = sdm630_unit(12_345.5, 678.25)
    modbus_server.units[2] = em24_unit(-2_500.3, 10_000.7)
    pool = EndpointPool()
    a = ModbusDriver(
        device(modbus_server.port, "eastron_sdm630", 1),
        pool.get("127.0.0.1", modbus_server.port, 0.5),
    )
    b = ModbusDriver(
        device(modbus_server.port, "carlo_gavazzi_em24", 2),
        pool.get("127.0.0.1", modbus_server.port, 0.5),
    )
    try:
        va = await a.scrape(a.groups()[0])
        vb = await b.scrape(b.groups()[0])
    finally:
        pool.close()
    assert va["total-power"] == 12_345.5
    assert va["import-energy"] == 678.25
    assert vb["total-power"] == pytest.approx(-2_500.3)
    assert vb["import-energy"] == pytest.approx(10_000.7)
    # SDM630: 3 coalesced blocks; EM24: 1 block
    assert modbus_server.requests == 4


async def test_exception_reply_marks_only_that_device(modbus_server: FakeModbusServer) -> None:
    modbus_server.units[1] = sdm630_unit(1000.0, 1.0)
    modbus_server.units[2] = FakeUnit(exception_code=2)
    pool = EndpointPool()
    good = ModbusDriver(
        device(modbus_server.port, "eastron_sdm630", 1),
        pool.get("127.0.0.1", modbus_server.port, 0.5),
    )
    bad = ModbusDriver(
        device(modbus_server.port, "eastron_sdm630", 2),
        pool.get("127.0.0.1", modbus_server.port, 0.5),
    )
    metrics = AdapterMetrics()
    got: list[Reading] = []

    def norms(driver: ModbusDriver) -> dict[str, PointNormaliser]:
        return {
            p.id: PointNormaliser(p.id, p.unit, p.quantity, QualityRules(p.kind))
            for p, _ in driver.config.resolved_points()
        }

    try:
        good_poller = DevicePoller(good, norms(good), got.extend, metrics, lambda: 1)
        bad_poller = DevicePoller(bad, norms(bad), got.extend, metrics, lambda: 1)
        good_readings, good_answered = await good_poller.poll_once(good.groups()[0])
        bad_readings, bad_answered = await bad_poller.poll_once(bad.groups()[0])
    finally:
        pool.close()
    assert good_answered
    assert bad_answered
    assert {r.quality for r in good_readings} == {Quality.GOOD}
    assert {r.quality for r in bad_readings} == {Quality.MISSING}
    power = next(r for r in good_readings if r.point_id == "total-power")
    assert (power.value, power.unit) == (1.0, "kW")
    assert metrics.device_errors.labels("meter-2", "exception")._value.get() == 1


async def test_silent_device_does_not_hold_up_others() -> None:
    silent_server, live_server = FakeModbusServer(), FakeModbusServer()
    await silent_server.start()
    await live_server.start()
    silent_server.units[1] = FakeUnit(silent=True)
    live_server.units[1] = sdm630_unit(500.0, 2.0)
    pool = EndpointPool()
    silent = ModbusDriver(
        device(silent_server.port, "eastron_sdm630", timeout_s=30.0),
        pool.get("127.0.0.1", silent_server.port, 30.0),
    )
    live = ModbusDriver(
        device(live_server.port, "eastron_sdm630"), pool.get("127.0.0.1", live_server.port, 0.5)
    )
    try:
        pending = asyncio.create_task(silent.scrape(silent.groups()[0]))
        await asyncio.sleep(0)
        for _ in range(3):
            values = await live.scrape(live.groups()[0])
            assert values["total-power"] == 500.0
        assert not pending.done()  # still waiting on its own 30 s timeout
        pending.cancel()
    finally:
        pool.close()
        await silent_server.stop()
        await live_server.stop()


async def test_closed_port_is_a_timeout_with_every_point_missing() -> None:
    server = FakeModbusServer()
    await server.start()
    port = server.port
    await server.stop()
    pool = EndpointPool()
    driver = ModbusDriver(device(port, "carlo_gavazzi_em24"), pool.get("127.0.0.1", port, 0.5))
    with pytest.raises(PartialScrape) as info:
        await driver.scrape(driver.groups()[0])
    pool.close()
    assert info.value.timeout
    assert set(info.value.values.values()) == {None}


async def test_stopping_a_poller_cancels_a_request_in_flight() -> None:
    server = FakeModbusServer()
    await server.start()
    server.units[1] = FakeUnit(silent=True)
    pool = EndpointPool()
    driver = ModbusDriver(
        device(server.port, "carlo_gavazzi_em24", timeout_s=30.0),
        pool.get("127.0.0.1", server.port, 30.0),
    )
    norms = {
        p.id: PointNormaliser(p.id, p.unit, p.quantity, QualityRules(p.kind))
        for p, _ in driver.config.resolved_points()
    }
    poller = DevicePoller(driver, norms, lambda _r: None, AdapterMetrics(), lambda: 1)
    poller.start()
    try:
        await server.request_seen.wait()  # the request now waits for its 30 s timeout
        # pymodbus reports a cancelled request as a connection error; the poller must still stop
        await asyncio.wait_for(poller.stop(), timeout=10)
    finally:
        pool.close()
        await server.stop()
