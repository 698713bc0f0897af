"""The USB transport through pyusb's real API, with a pyusb backend whose one
device bridges its bulk endpoints to the emulator's TCP port: what libusb
would do with a Shtrih on the bus, minus the cable."""

import socket
import types

import pytest
import usb.backend
import usb.core
from kkt_helpers import FAST
from kkt_testing import receipt
from ru54fz import errors as E
from ru54fz.shtrih.driver import ShtrihDriver
from ru54fz.transport import UsbTransport

VID, PID = 0x1FC9, 0x8080
EP_IN, EP_OUT = 0x81, 0x02


def _ns(**kw):
    return types.SimpleNamespace(extra_descriptors=[], **kw)


class BridgeBackend(usb.backend.IBackend):
    """One vendor-class device: interface 0, bulk IN 0x81 / OUT 0x02, 64-byte packets."""

    def __init__(self, port, vid=VID, pid=PID):
        self.port, self.vid, self.pid = port, vid, pid
        self.sock = None
        self.calls = []
        self.kernel_driver = True

    def enumerate_devices(self):
        yield "dev0"

    def get_device_descriptor(self, dev):
        return _ns(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=self.vid,
            idProduct=self.pid,
            bcdDevice=0x0100,
            iManufacturer=0,
            iProduct=0,
            iSerialNumber=0,
            bNumConfigurations=1,
            address=5,
            bus=1,
            port_number=2,
            port_numbers=(2,),
            speed=3,
        )

    def get_configuration_descriptor(self, dev, config):
        return _ns(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=32,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0x80,
            bMaxPower=50,
        )

    def get_interface_descriptor(self, dev, intf, alt, config):
        if intf != 0 or alt != 0:
            raise IndexError(intf)
        return _ns(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=2,
            bInterfaceClass=0xFF,
            bInterfaceSubClass=0,
            bInterfaceProtocol=0,
            iInterface=0,
        )

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):
        address = (EP_IN, EP_OUT)[ep]
        return _ns(
            bLength=7,
            bDescriptorType=5,
            bEndpointAddress=address,
            bmAttributes=0x02,
            wMaxPacketSize=64,
            bInterval=0,
            bRefresh=0,
            bSynchAddress=0,
        )

    def open_device(self, dev):
        self.calls.append("open")
        return "handle"

    def close_device(self, handle):
        self.calls.append("close")
        if self.sock:
            self.sock.close()
            self.sock = None

    def set_configuration(self, handle, value):
        self.calls.append(f"set_configuration {value}")

    def get_configuration(self, handle):
        return 1

    def claim_interface(self, handle, intf):
        self.calls.append(f"claim {intf}")
        try:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, 19) from None

    def release_interface(self, handle, intf):
        self.calls.append(f"release {intf}")

    def is_kernel_driver_active(self, handle, intf):
        return self.kernel_driver

    def detach_kernel_driver(self, handle, intf):
        self.calls.append("detach")
        self.kernel_driver = False

    def attach_kernel_driver(self, handle, intf):
        self.calls.append("attach")
        self.kernel_driver = True

    def bulk_write(self, handle, ep, intf, data, timeout):
        assert ep == EP_OUT
        try:
            self.sock.sendall(bytes(data))
        except OSError:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, 19) from None
        return len(data)

    def bulk_read(self, handle, ep, intf, buff, timeout):
        assert ep == EP_IN
        self.sock.settimeout(timeout / 1000)
        try:
            data = self.sock.recv(min(len(buff), 64))
        except TimeoutError:
            raise usb.core.USBTimeoutError("timeout", -7, 110) from None
        except OSError:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, 19) from None
        if not data:
            raise usb.core.USBError("device gone", -4, 19)
        buff[: len(data)] = type(buff)(buff.typecode, data)
        return len(data)


def test_usb_transport_runs_the_protocol_over_bulk_endpoints(emu):
    backend = BridgeBackend(emu.port)
    transport = UsbTransport(VID, PID, backend=backend)
    dev = ShtrihDriver(transport, timeouts=FAST)
    dev.open_shift("Смирнова А.")
    long_names = [f"Линза очковая асферическая 1.67 с покрытием №{i}" for i in range(3)]
    from kkt_testing import item

    res = dev.fiscalise(receipt([item(n, 300000) for n in long_names]))  # frames > 64 bytes
    assert res.fd_number == 3 and dev.find_document(3).total == 900000
    assert backend.calls[:4] == ["open", "detach", "set_configuration 1", "claim 0"]
    dev.close()
    assert "release 0" in backend.calls and "attach" in backend.calls and backend.kernel_driver


def test_usb_device_with_other_ids_is_not_found(emu):
    transport = UsbTransport(VID, 0x0001, backend=BridgeBackend(emu.port))
    with pytest.raises(E.TransportError) as info:
        transport.open()
    assert "1fc9:0001 not found" in info.value.message


def test_usb_device_unplugged_is_a_transport_error(own_emu):
    emu = own_emu
    backend = BridgeBackend(emu.port)
    dev = ShtrihDriver(UsbTransport(VID, PID, backend=backend), timeouts=FAST)
    assert dev.status()["mode"] == 4
    emu.kill()
    with pytest.raises(E.TransportError):
        dev.status()
