"""Byte transports to a KKT: TCP, serial (USB-CDC tty) and raw USB bulk.

All of them implement ``Transport``: ``open()``, ``close()``, ``write(data)``
and ``read(n, timeout)`` which returns up to ``n`` bytes, ``b""`` when nothing
arrived within ``timeout`` seconds, and raises ``errors.TransportError`` when
the link is gone.  ``make_transport(config)`` builds one from a URL such as
``tcp://127.0.0.1:7778``, ``serial:///dev/ttyACM0?baudrate=115200`` or
``usb://1fc9:8080?interface=0`` (or a dict with an ``address`` key).
"""

# read()/write() here are a byte link's, not an Odoo model's: no super() to call
# pylint: disable=method-required-super

import abc
import contextlib
import socket
import time
from urllib.parse import parse_qs, urlsplit

from .errors import RequestInvalid, TransportError


class Transport(abc.ABC):
    is_open = False

    @abc.abstractmethod
    def open(self):
        """Connect; raises TransportError when the device cannot be reached."""

    @abc.abstractmethod
    def close(self):
        """Release the link (idempotent)."""

    @abc.abstractmethod
    def write(self, data):
        """Send all of ``data`` or raise TransportError."""

    @abc.abstractmethod
    def read(self, n, timeout):
        """Up to ``n`` bytes; b'' on timeout; TransportError when the link is gone."""

    def describe(self):
        return type(self).__name__


class TcpTransport(Transport):
    def __init__(self, host, port, connect_timeout=3.0):
        self.host, self.port, self.connect_timeout = host, int(port), float(connect_timeout)
        self.sock = None

    def describe(self):
        return f"tcp://{self.host}:{self.port}"

    def open(self):
        if self.sock is not None:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise TransportError(f"cannot connect to the KKT at {self.describe()}: {exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.is_open = True

    def close(self):
        sock, self.sock = self.sock, None
        self.is_open = False
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def write(self, data):
        if self.sock is None:
            raise TransportError("the KKT link is closed")
        try:
            self.sock.settimeout(self.connect_timeout)
            self.sock.sendall(data)
        except OSError as exc:
            raise TransportError(f"write to {self.describe()} failed: {exc}") from None

    def read(self, n, timeout):
        if self.sock is None:
            raise TransportError("the KKT link is closed")
        try:
            self.sock.settimeout(max(0.0, timeout))
            data = self.sock.recv(n)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as exc:
            raise TransportError(f"read from {self.describe()} failed: {exc}") from None
        if not data:
            raise TransportError(f"the KKT at {self.describe()} closed the connection")
        return data


class SerialTransport(Transport):
    def __init__(self, port, baudrate=115200, **options):
        self.port, self.baudrate, self.options = port, int(baudrate), options
        self.ser = None

    def describe(self):
        return f"serial://{self.port}?baudrate={self.baudrate}"

    def open(self):
        if self.ser is not None:
            return
        import serial  # pyserial; imported lazily so TCP-only tills do not need it

        try:
            self.ser = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=3, **self.options)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open the KKT port {self.port}: {exc}") from None
        self.is_open = True

    def close(self):
        ser, self.ser = self.ser, None
        self.is_open = False
        if ser is not None:
            with contextlib.suppress(Exception):
                ser.close()

    def write(self, data):
        import serial

        if self.ser is None:
            raise TransportError("the KKT port is closed")
        try:
            self.ser.write(data)
            self.ser.flush()
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"write to {self.port} failed: {exc}") from None

    def read(self, n, timeout):
        import serial

        if self.ser is None:
            raise TransportError("the KKT port is closed")
        try:
            self.ser.timeout = max(0.0, timeout)
            first = self.ser.read(1)
            if not first:
                return b""
            self.ser.timeout = 0
            return first + self.ser.read(min(n - 1, max(0, self.ser.in_waiting)))
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"read from {self.port} failed: {exc}") from None


class UsbTransport(Transport):
    """Raw USB bulk endpoints through pyusb (libusb)."""

    def __init__(self, vendor_id, product_id, interface=0, serial_number=None, backend=None):
        self.vendor_id, self.product_id = int(vendor_id), int(product_id)
        self.interface = int(interface)
        self.serial_number = serial_number
        self.backend = backend
        self.dev = self.ep_in = self.ep_out = None
        self._buffer = bytearray()
        self._detached = False

    def describe(self):
        return f"usb://{self.vendor_id:04x}:{self.product_id:04x}"

    def _find(self):
        import usb.core

        kwargs = {"idVendor": self.vendor_id, "idProduct": self.product_id}
        if self.serial_number:
            kwargs["custom_match"] = lambda d: usb.util.get_string(d, d.iSerialNumber) == self.serial_number
        try:
            return usb.core.find(backend=self.backend, **kwargs)
        except usb.core.NoBackendError:
            raise TransportError("no USB backend (libusb) is available on this machine") from None
        except usb.core.USBError as exc:
            raise TransportError(f"USB enumeration failed: {exc}") from None

    def open(self):
        if self.dev is not None:
            return
        import usb.core
        import usb.util

        dev = self._find()
        if dev is None:
            raise TransportError(f"USB device {self.describe()[6:]} not found")
        with contextlib.suppress(NotImplementedError, usb.core.USBError):
            if dev.is_kernel_driver_active(self.interface):
                dev.detach_kernel_driver(self.interface)
                self._detached = True
        try:
            with contextlib.suppress(usb.core.USBError):  # already configured (busy): keep the current one
                dev.set_configuration()
            cfg = dev.get_active_configuration()
            intf = cfg[(self.interface, 0)]
            usb.util.claim_interface(dev, self.interface)

            def bulk(direction):
                return usb.util.find_descriptor(
                    intf,
                    custom_match=lambda e: (
                        usb.util.endpoint_direction(e.bEndpointAddress) == direction
                        and usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
                    ),
                )

            self.ep_in, self.ep_out = bulk(usb.util.ENDPOINT_IN), bulk(usb.util.ENDPOINT_OUT)
        except (usb.core.USBError, KeyError, OSError, ValueError) as exc:
            self._dispose(dev)
            raise TransportError(f"cannot claim USB interface {self.interface}: {exc}") from None
        if self.ep_in is None or self.ep_out is None:
            self._dispose(dev)
            raise TransportError(f"USB interface {self.interface} has no bulk IN/OUT endpoints")
        self.dev = dev
        self.is_open = True

    def close(self):
        dev, self.dev = self.dev, None
        self.is_open = False
        self._buffer.clear()
        if dev is not None:
            self._dispose(dev)

    def _dispose(self, dev):
        import usb.util

        with contextlib.suppress(Exception):
            usb.util.release_interface(dev, self.interface)
            if self._detached:
                self._detached = False
                dev.attach_kernel_driver(self.interface)
        with contextlib.suppress(Exception):
            usb.util.dispose_resources(dev)

    def write(self, data):
        import usb.core

        if self.dev is None:
            raise TransportError("the KKT USB link is closed")
        try:
            written = self.ep_out.write(data, timeout=3000)
        except (usb.core.USBError, OSError) as exc:
            raise TransportError(f"USB write failed: {exc}") from None
        if written != len(data):
            raise TransportError(f"USB write sent {written} of {len(data)} bytes")

    def read(self, n, timeout):
        import usb.core

        if self.dev is None:
            raise TransportError("the KKT USB link is closed")
        if not self._buffer:
            try:
                size = max(self.ep_in.wMaxPacketSize, 64)
                chunk = self.ep_in.read(size, timeout=max(1, int(timeout * 1000)))
            except usb.core.USBTimeoutError:
                return b""
            except usb.core.USBError as exc:
                if getattr(exc, "errno", None) == 110:  # ETIMEDOUT on older pyusb
                    return b""
                raise TransportError(f"USB read failed: {exc}") from None
            except OSError as exc:
                raise TransportError(f"USB read failed: {exc}") from None
            self._buffer.extend(bytes(chunk))
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out


def _query(parts):
    return {k: v[-1] for k, v in parse_qs(parts.query).items()}


def parse_address(address):
    """URL -> (kind, params).  Raises RequestInvalid with a precise message."""
    if not isinstance(address, str) or "://" not in address:
        raise RequestInvalid(
            f"KKT address {address!r} is not a URL like tcp://host:port, "
            f"serial:///dev/ttyACM0 or usb://vid:pid"
        )
    parts = urlsplit(address)
    query = _query(parts)
    if parts.scheme == "tcp":
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or not port:
            raise RequestInvalid(f"KKT address {address!r}: tcp:// needs host and port")
        params = {"host": parts.hostname, "port": port}
        if "connect_timeout" in query:
            params["connect_timeout"] = float(query["connect_timeout"])
        return "tcp", params
    if parts.scheme == "serial":
        path = (parts.netloc + parts.path) or ""
        if not path:
            raise RequestInvalid(f"KKT address {address!r}: serial:// needs a device path")
        params = {"port": path, "baudrate": int(query.get("baudrate", 115200))}
        return "serial", params
    if parts.scheme == "usb":
        ids = parts.netloc.split(":")
        try:
            vid, pid = (int(x, 16) for x in ids)
        except ValueError:
            raise RequestInvalid(
                f"KKT address {address!r}: usb:// needs vid:pid in hex, e.g. usb://1fc9:8080"
            ) from None
        if not (0 <= vid <= 0xFFFF and 0 <= pid <= 0xFFFF):
            raise RequestInvalid(f"KKT address {address!r}: USB ids out of range")
        params = {"vendor_id": vid, "product_id": pid, "interface": int(query.get("interface", 0))}
        if query.get("serial"):
            params["serial_number"] = query["serial"]
        return "usb", params
    raise RequestInvalid(f"KKT address {address!r}: unknown scheme {parts.scheme!r} (tcp, serial, usb)")


def make_transport(config):
    """Transport from a URL string or a dict with ``address`` (URL) or ``transport`` + params."""
    if isinstance(config, str):
        kind, params = parse_address(config)
    elif isinstance(config, dict) and config.get("address"):
        kind, params = parse_address(config["address"])
    elif isinstance(config, dict) and config.get("transport"):
        kind = config["transport"]
        params = {k: v for k, v in config.items() if k not in ("transport", "type")}
    else:
        raise RequestInvalid("KKT config needs an 'address' URL")
    cls = {"tcp": TcpTransport, "serial": SerialTransport, "usb": UsbTransport}.get(kind)
    if cls is None:
        raise RequestInvalid(f"unknown KKT transport {kind!r}")
    return cls(**params)


def wait_readable_deadline(deadline):
    """Seconds left until ``deadline`` (monotonic), never negative."""
    return max(0.0, deadline - time.monotonic())
