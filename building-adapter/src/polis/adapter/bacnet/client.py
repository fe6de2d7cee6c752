"""The only module that imports bacpypes3: a client Application on its own UDP port.

Everything above it deals in plain strings (``"analog-input,1"``, ``"present-value"``) and
floats; errors surface as :class:`BacnetError` with a kind the driver can act on.

On its BACnet/IP port the client is a plain node, a foreign device registered with the BBMD
of another subnet (:mod:`polis.adapter.bacnet.registration` keeps the registration), or a
BBMD itself with a broadcast distribution table. Devices behind BACnet routers are
addressed ``network:mac``; :meth:`BacnetClient.add_route` names the router of a network.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bacpypes3.apdu import (
    AbortPDU,
    ComplexAckPDU,
    ConfirmedRequestPDU,
    ErrorRejectAbortNack,
    RejectPDU,
)
from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.basetypes import PriorityValue, PropertyIdentifier, PropertyReference
from bacpypes3.comm import ServiceAccessPoint
from bacpypes3.ipv4.bvll import DeleteForeignDeviceTableEntry, RegisterForeignDevice, Result
from bacpypes3.ipv4.link import ForeignLinkLayer
from bacpypes3.local.device import DeviceObject
from bacpypes3.pdu import Address, IPv4Address
from bacpypes3.primitivedata import Enumerated, Null, ObjectIdentifier, Real, Unsigned

from polis.adapter.bacnet.codec import (
    OBJECT_TYPES,
    READ_PROPERTY_MULTIPLE,
    CodecError,
    PropertyError,
    decode_read_property_multiple_ack,
    encode_present_value_request,
)
from polis.adapter.bacnet.registration import (
    RESULT_DISTRIBUTE_NAK,
    ForeignRegistration,
    RegistrationOutcome,
)


class BacnetError(Exception):
    """``kind`` is one of: timeout, reject, abort, segmentation, error (the device's Error
    answer), failure (the request could not be made)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """``address`` is where requests go: ``ip:port``, or ``network:mac`` for a device
    behind a router, whose BACnet/IP address is then ``router``."""

    instance: int
    address: str
    network: int | None = None
    mac: str | None = None
    router: str | None = None


@dataclass(frozen=True, slots=True)
class ForeignDevice:
    """Register with the BBMD at ``bbmd`` (ip:port) for ``ttl_s`` seconds at a time."""

    bbmd: str
    ttl_s: int = 300
    on_outcome: Callable[[RegistrationOutcome], None] | None = None


class _ForeignLink(ForeignLinkLayer):  # type: ignore[misc]
    """bacpypes3's foreign-device link layer, its registration run by
    :class:`ForeignRegistration` instead of bacpypes3's timers, which renew only once the
    TTL has run out, ignore the BBMD's answers after a NAK and stop for good once a
    registration has lapsed."""

    def __init__(self, local: IPv4Address, bbmd: IPv4Address) -> None:
        super().__init__(local)
        self.bbmdAddress = bbmd
        self.on_lost: Callable[[], None] = lambda: None
        self._answer: asyncio.Future[int] | None = None

    async def send_registration(self, ttl_s: int, timeout_s: float) -> int:
        self.bbmdTimeToLive = ttl_s
        answer = self._answer = asyncio.get_running_loop().create_future()
        try:
            await self.request(RegisterForeignDevice(ttl_s, destination=self.bbmdAddress))
            return await asyncio.wait_for(answer, timeout_s)
        finally:
            self._answer = None

    def set_registered(self, registered: bool) -> None:
        # what bacpypes3's broadcast path reads: 0 sends through the BBMD, -1 waits
        # briefly for a registration under way and then drops the broadcast
        self.bbmdRegistrationStatus = 0 if registered else -1
        if registered:
            self._registration_event.set()
        else:
            self._registration_event.clear()

    async def send_deletion(self) -> None:
        local = IPv4Address(self.server.local_address)
        await self.request(DeleteForeignDeviceTableEntry(local, destination=self.bbmdAddress))

    async def confirmation(self, lpdu: Any) -> None:
        if isinstance(lpdu, Result) and lpdu.pduSource == self.bbmdAddress:
            code = int(lpdu.bvlciResultCode)
            if code == RESULT_DISTRIBUTE_NAK:
                self.on_lost()
            elif self._answer is not None and not self._answer.done():
                self._answer.set_result(code)
            return
        await super().confirmation(lpdu)


_SEGMENTATION_REASONS = ("segmentation-not-supported", "buffer-overflow", "apdu-too-long")


def _classify(error: BaseException) -> BacnetError:
    text = str(error) or type(error).__name__
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return BacnetError("no answer", "timeout")
    reason = str(getattr(error, "apduAbortRejectReason", "") or getattr(error, "reason", ""))
    if isinstance(error, AbortPDU) or "abort" in type(error).__name__.lower():
        if any(r in reason or r in text for r in _SEGMENTATION_REASONS):
            return BacnetError(f"abort: {reason or text}", "segmentation")
        return BacnetError(f"abort: {reason or text}", "abort")
    if isinstance(error, RejectPDU) or "reject" in type(error).__name__.lower():
        return BacnetError(f"reject: {reason or text}", "reject")
    # an Error PDU is the device's answer (write-access-denied, unknown-object…); anything
    # else (a socket error, say) is a failure to ask
    return BacnetError(text, "error" if isinstance(error, ErrorRejectAbortNack) else "failure")


def to_float(value: Any) -> float | None:
    """Present values as floats: reals, unsigned, booleans, active/inactive."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if text in ("active", "inactive"):
        return 1.0 if text == "active" else 0.0
    try:
        return float(text)
    except ValueError:
        return None


def _with_own_entry(local_address: str, peers: Sequence[str]) -> list[str]:
    """The broadcast distribution table: the peers and this BBMD itself, which forwards
    what its peers send it onto its own subnet only when it finds itself in the table."""
    own = Address(local_address)
    if any(Address(peer) == own for peer in peers):
        return list(peers)
    return [local_address, *peers]


def _priority_in_force(array: Sequence[PriorityValue]) -> int:
    for index, slot in enumerate(array):
        contents = slot.dict_contents() if hasattr(slot, "dict_contents") else {}
        if contents and "null" not in contents:
            return index + 1
    return 0


class BacnetClient:
    """``local_address`` is ``ip[/prefix][:port]`` (the prefix gives the broadcast address);
    ``foreign`` registers with a BBMD, ``bdt`` makes the client a BBMD with these peers."""

    def __init__(
        self,
        local_address: str,
        device_instance: int = 4194300,
        *,
        foreign: ForeignDevice | None = None,
        bdt: Sequence[str] | None = None,
    ) -> None:
        if foreign is not None and bdt is not None:
            raise ValueError("a BBMD does not register as a foreign device")
        self.local_address = local_address
        self.device_instance = device_instance
        self.foreign = foreign
        self.bdt = None if bdt is None else _with_own_entry(local_address, bdt)
        self.registration: ForeignRegistration | None = None
        self._registration_task: asyncio.Task[None] | None = None
        self._link: _ForeignLink | None = None
        self._app: Application | None = None
        # parsed identifiers, reused: parsing them costs more than the request itself
        self._objids: dict[str, ObjectIdentifier] = {}
        self._props: dict[str, PropertyReference] = {}
        self._vendor: dict[str, Any] = {}
        self._addresses: dict[str, Address] = {}
        # present-value polls: encoded request and the object ids it asks for, per object list
        self._polls: dict[tuple[str, ...], tuple[bytes, dict[tuple[int, int], str]]] = {}
        # (device, invoke id) of polls whose ACK is handed over undecoded
        self._raw: set[tuple[Any, int]] = set()

    def start(self) -> None:
        """Open the UDP port (in a running event loop); a foreign device starts registering."""
        if self.foreign is not None:
            self._app = self._start_foreign(self.foreign)
        else:
            argv = ["--address", self.local_address, "--instance", str(self.device_instance)]
            if self.bdt is not None:
                argv += ["--bbmd", *self.bdt]
            self._app = Application.from_args(
                SimpleArgumentParser().parse_args([*argv, "--name", "polis-adapter"])
            )
        self._pass_raw_acks(self._app)

    def _start_foreign(self, foreign: ForeignDevice) -> Application:
        # bacpypes3 builds a foreign port with its own registration timers: the link layer
        # is bound by hand instead, with no network-port object
        device = DeviceObject(
            objectIdentifier=("device", self.device_instance),
            objectName="polis-adapter",
            vendorIdentifier=999,
        )
        app = Application.from_object_list([device])
        local = IPv4Address(self.local_address)
        link = self._link = _ForeignLink(local, IPv4Address(foreign.bbmd))
        app.link_layers["polis-foreign-port"] = link  # closed with the application
        app.nsap.bind(link, address=local)
        self.registration = ForeignRegistration(
            link, foreign.bbmd, foreign.ttl_s, foreign.on_outcome
        )
        link.on_lost = self.registration.lost
        self._registration_task = asyncio.get_running_loop().create_task(
            self.registration.run(), name="bacnet-foreign-registration"
        )
        return app

    def _pass_raw_acks(self, app: Application) -> None:
        """Hand the ACKs of present-value polls to :mod:`polis.adapter.bacnet.codec`
        undecoded; every other answer takes bacpypes3's decoding as before."""
        asap = app.asap
        decode_and_forward = asap.sap_response
        raw = self._raw

        async def sap_response(apdu: Any) -> None:
            if isinstance(apdu, ComplexAckPDU) and (apdu.pduSource, apdu.apduInvokeID) in raw:
                await ServiceAccessPoint.sap_response(asap, apdu)
            else:
                await decode_and_forward(apdu)

        asap.sap_response = sap_response

    @property
    def app(self) -> Application:
        if self._app is None:
            raise RuntimeError("BacnetClient.start() was not called")
        return self._app

    def close(self) -> None:
        if self._registration_task is not None:
            self._registration_task.cancel()
            self._registration_task = None
        if self._app is not None:
            self._app.close()
            self._app = None

    async def aclose(self) -> None:
        """Close, first asking the BBMD to drop our entry so that it stops forwarding
        broadcasts to a port nobody reads (best effort: it expires anyway)."""
        if self._registration_task is not None:
            self._registration_task.cancel()
            await asyncio.gather(self._registration_task, return_exceptions=True)
            self._registration_task = None
        if self._link is not None and self.registration is not None:
            if self.registration.registered:
                with contextlib.suppress(OSError, RuntimeError):
                    await self._link.send_deletion()
            self._link = None
        self.close()

    async def add_route(self, network: int, router: str) -> None:
        """Reach BACnet network ``network`` through the router at ``router`` (ip:port),
        without asking the network who routes to it."""
        nsap = self.app.nsap
        await nsap.update_router_references(
            nsap.local_adapter.adapterNet, Address(router), [network]
        )

    async def route_to(self, network: int) -> str | None:
        """The BACnet/IP address of the router to ``network``, if known."""
        nsap = self.app.nsap
        info = await nsap.router_info_cache.get_path_info(nsap.local_adapter.adapterNet, network)
        return None if info is None else str(info[0])

    async def _call(self, coro: Any, timeout_s: float) -> Any:
        try:
            result = await asyncio.wait_for(coro, timeout_s)
        except BacnetError:
            raise
        except (ErrorRejectAbortNack, TimeoutError) as error:
            raise _classify(error) from error
        except Exception as error:  # bacpypes3 raises its PDUs and plain errors alike
            raise _classify(error) from error
        if isinstance(result, ErrorRejectAbortNack | BaseException):
            raise _classify(result)
        return result

    async def who_is(
        self, address: str | None, low: int | None, high: int | None, timeout_s: float
    ) -> list[DiscoveredDevice]:
        """Who-Is to ``address``, or to every network (``None``: a global broadcast, which
        a foreign device hands its BBMD to distribute); the devices that answered."""
        if address is None:
            await self._can_broadcast(timeout_s)
        target = None if address is None else Address(address)
        found = await self.app.who_is(low, high, target, timeout=timeout_s)
        return [await self._discovered(iam) for iam in found]

    async def _can_broadcast(self, timeout_s: float) -> None:
        if self.registration is not None:
            if not await self.registration.wait_registered(timeout_s):
                raise BacnetError(
                    "not registered as a foreign device, broadcasts would be dropped: "
                    f"{self.registration.last_error or 'no answer yet'}",
                    "timeout",
                )
        elif "/" not in self.local_address:
            raise BacnetError(
                f"no broadcast address: give the local address {self.local_address} its "
                "subnet prefix (ip/24:port), or register with a BBMD",
                "error",
            )

    async def _discovered(self, iam: Any) -> DiscoveredDevice:
        instance = int(iam.iAmDeviceIdentifier[1])
        source = iam.pduSource
        if source.addrNet is None:
            return DiscoveredDevice(instance, str(source))
        network = int(source.addrNet)
        mac = str(source).partition(":")[2]
        return DiscoveredDevice(instance, str(source), network, mac, await self.route_to(network))

    async def read(self, address: str, objid: str, prop: str, timeout_s: float) -> Any:
        return await self._call(self.app.read_property(address, objid, prop), timeout_s)

    def _address(self, address: str) -> Address:
        parsed = self._addresses.get(address)
        if parsed is None:
            parsed = self._addresses[address] = Address(address)
        return parsed

    def _poll_request(self, objids: tuple[str, ...]) -> tuple[bytes, dict[tuple[int, int], str]]:
        cached = self._polls.get(objids)
        if cached is None:
            body = encode_present_value_request(objids)
            keys = {}
            for objid in objids:
                kind, _, instance = objid.partition(",")
                keys[(OBJECT_TYPES[kind], int(instance))] = objid
            cached = self._polls[objids] = (body, keys)
        return cached

    async def _read_present_values(
        self, address: str, objids: Sequence[str], timeout_s: float
    ) -> dict[tuple[str, str], Any] | None:
        """One ReadPropertyMultiple of present values, encoded and decoded by Polis' codec
        (bacpypes3 carries the transaction); None for object types or values the codec does
        not handle."""
        try:
            body, keys = self._poll_request(tuple(objids))
        except CodecError:
            return await self.read_multiple(
                address, [(o, ["present-value"]) for o in objids], timeout_s
            )
        apdu = ConfirmedRequestPDU(READ_PROPERTY_MULTIPLE, destination=self._address(address))
        apdu.put_data(body)
        future = self.app.request(apdu)
        key = (apdu.pduDestination, apdu.apduInvokeID)
        self._raw.add(key)
        try:
            ack = await self._call(future, timeout_s)
        finally:
            self._raw.discard(key)
        try:
            rows = decode_read_property_multiple_ack(bytes(ack.pduData))
        except CodecError:
            return await self.read_multiple(
                address, [(o, ["present-value"]) for o in objids], timeout_s
            )
        out: dict[tuple[str, str], Any] = {}
        for obj_type, instance, _prop, value in rows:
            objid = keys.get((obj_type, instance))
            if objid is None:
                continue
            out[(objid, "present-value")] = (
                BacnetError(f"error {value.error_class}/{value.error_code}", "error")
                if isinstance(value, PropertyError)
                else value
            )
        return out

    async def read_multiple(
        self, address: str, requests: Sequence[tuple[str, Sequence[str]]], timeout_s: float
    ) -> dict[tuple[str, str], Any]:
        """One ReadPropertyMultiple; per-property errors come back as BacnetError values.

        Present-value-only requests (every poll) take Polis' codec; the rest, and anything
        the codec cannot handle, bacpypes3's encoding."""
        if all(len(props) == 1 and props[0] == "present-value" for _, props in requests):
            rows = await self._read_present_values(address, [o for o, _ in requests], timeout_s)
            if rows is not None:
                return rows
        flat: list[Any] = []
        for objid, props in requests:
            parsed = self._objids.get(objid)
            if parsed is None:
                parsed = self._objids[objid] = ObjectIdentifier(objid)
            refs = []
            for prop in props:
                ref = self._props.get(prop)
                if ref is None:
                    ref = self._props[prop] = PropertyReference(
                        propertyIdentifier=PropertyIdentifier(prop)
                    )
                refs.append(ref)
            flat.extend((parsed, refs))
        vendor = self._vendor.get(address)
        if vendor is None:
            vendor = await self.app.get_vendor_info(device_address=Address(address))
            self._vendor[address] = vendor
        rows = await self._call(
            self.app.read_property_multiple(Address(address), flat, vendor_info=vendor), timeout_s
        )
        out: dict[tuple[str, str], Any] = {}
        for objid, prop, _index, value in rows or ():
            key = (f"{objid[0]},{objid[1]}", str(prop))
            out[key] = _classify(value) if isinstance(value, BaseException) else value
        return out

    async def write(
        self, address: str, objid: str, value: float | None, priority: int, timeout_s: float
    ) -> None:
        kind = objid.split(",", 1)[0]
        encoded: Any
        if value is None:
            encoded = Null(())
        elif kind.startswith("binary"):
            encoded = Enumerated(1 if value else 0)
        elif kind.startswith("multi-state"):
            encoded = Unsigned(int(value))
        else:
            encoded = Real(value)
        await self._call(
            self.app.write_property(address, objid, "present-value", encoded, priority=priority),
            timeout_s,
        )

    async def subscribe(
        self,
        address: str,
        objid: str,
        lifetime_s: int,
        on_value: Callable[[str, Any], None],
    ) -> None:
        """Subscribe to COV notifications until cancelled; bacpypes3 renews the subscription
        before ``lifetime_s`` runs out. ``on_value(property, value)`` gets every change."""
        try:
            async with self.app.change_of_value(
                Address(address),
                ObjectIdentifier(objid),
                issue_confirmed_notifications=False,
                lifetime=lifetime_s,
            ) as subscription:
                while True:
                    prop, value = await subscription.get_value()
                    on_value(str(prop), value)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise _classify(error) from error

    async def priority_in_force(self, address: str, objid: str, timeout_s: float) -> int:
        array = await self.read(address, objid, "priority-array", timeout_s)
        return _priority_in_force(array or [])
