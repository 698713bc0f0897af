"""What a till served by the central server may be told to use (issue 12, item 10).

In central-served mode the till code and the KKT address come from a ``pos.config`` a POS
manager edits.  The code names the till's journal file and the address is where the server
opens a socket, so both are checked here, in one place, before either is used:

* a till code is 1-32 letters, digits, ``-`` or ``_`` (it must not start with ``-`` or ``_``);
* the journal of a till is ``<data dir>/<code>.sqlite`` and must resolve inside the data dir;
* a KKT address must match the allow-list an administrator configured.  Each entry is one
  address pattern: ``tcp://127.0.0.1:7781``, ``tcp://10.0.5.20:7700-7799`` (a port range),
  ``tcp://127.0.0.1:*``, ``http://127.0.0.1:16732`` or a device path pattern such as
  ``serial:///dev/ttyACM*`` / ``usb://1fc9:*``.  Host names are compared as written: no DNS,
  no wildcards in hosts (a wildcard host is an open door to the internal network).
  An address without a port is checked with the port its driver connects to
  (``DEFAULT_PORTS``); where the driver has none (a Shtrih ``tcp://``) it is refused.
"""

import fnmatch
import re
from pathlib import Path
from urllib.parse import urlsplit

from .errors import RequestInvalid

TILL_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
NETWORK_SCHEMES = ("tcp", "http", "https")
#: the port a network address without one means, as its driver connects: the ATOL driver's
#: web server listens on 16732 unless told otherwise (atol/driver.py and devices.py use this table too)
DEFAULT_PORTS = {"http": 16732}
# Local devices only, when an administrator configured nothing: no network address at all.
DEFAULT_ALLOWLIST = ("serial:///dev/ttyACM*", "serial:///dev/ttyUSB*", "serial:///dev/ttyS*", "usb://*")


def check_till_code(code):
    """``code`` when it is a valid till code, else ``RequestInvalid``."""
    if not isinstance(code, str) or not TILL_CODE_RE.match(code):
        raise RequestInvalid(f"invalid till code {code!r}: 1-32 letters, digits, '-' or '_'")
    return code


def journal_path(data_dir, code):
    """The journal file of till ``code`` under ``data_dir``; refuses anything outside it."""
    check_till_code(code)
    base = Path(data_dir).resolve()
    path = (base / f"{code}.sqlite").resolve()
    if path.parent != base:
        raise RequestInvalid(f"the journal of till {code!r} would be outside {base}")
    return path


def parse_allowlist(text):
    """Entries of an allow-list written one per line or separated by commas/spaces."""
    if text is None:
        return list(DEFAULT_ALLOWLIST)
    return [entry for entry in re.split(r"[\s,;]+", text) if entry]


def _split_network(address):
    parts = urlsplit(address)
    if parts.scheme not in NETWORK_SCHEMES or not parts.hostname or parts.username or parts.password:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if port is None:
        port = DEFAULT_PORTS.get(parts.scheme)
    return parts.scheme, parts.hostname.lower(), port


def _port_matches(pattern, port):
    if port is None:
        return False
    if pattern == "*":
        return True
    low, _dash, high = pattern.partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


def _entry_matches(entry, address):
    if "://" not in entry:
        return False
    scheme = entry.split("://", 1)[0]
    if scheme in NETWORK_SCHEMES:
        target = _split_network(address)
        head, _sep, port_pattern = entry.rpartition(":")
        allowed = _split_network(head + ":1")
        if target is None or allowed is None or "*" in head:
            return False
        return target[:2] == allowed[:2] and _port_matches(port_pattern, target[2])
    # device paths: the query string (baud rate, interface) is not part of what is allowed
    if "?" in address:
        address = address.split("?", 1)[0]
    if ".." in address:
        return False
    return address.startswith(f"{scheme}://") and fnmatch.fnmatchcase(address, entry)


def address_allowed(address, allowlist):
    """True when the KKT ``address`` matches one entry of ``allowlist`` (a list of patterns)."""
    if not isinstance(address, str) or not address or any(c.isspace() for c in address):
        return False
    return any(_entry_matches(entry, address) for entry in allowlist)


def check_address(address, allowlist):
    """``address`` when allowed, else ``RequestInvalid`` naming it."""
    if not address_allowed(address, allowlist):
        raise RequestInvalid(f"the KKT address {address!r} is not in the administrators' allow-list")
    return address
