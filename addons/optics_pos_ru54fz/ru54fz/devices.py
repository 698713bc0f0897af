"""``make_device(config)``: the one place that knows which driver serves a till.

    make_device({"type": "shtrih", "address": "tcp://127.0.0.1:7778"})
    make_device({"type": "shtrih", "address": "serial:///dev/ttyACM0?baudrate=115200",
                 "password": 30, "timeouts": {"print": 30}})
    make_device({"type": "emulator", "address": "tcp://127.0.0.1:7778"})   # same driver

    make_device({"type": "atol", "address": "http://127.0.0.1:16732"})      # ATOL web server
    make_device({..., "marking": {"online": {"url": ..., "token": ...},       # marked goods:
                                  "local": {"url": "http://127.0.0.1:5995", "user": ...}}})

Callers only see ``FiscalDevice``: the till config chooses ``shtrih`` or ``atol``
per till, the POS and central never know which.
"""

from .errors import RequestInvalid
from .till_policy import DEFAULT_PORTS

#: where the ATOL web server listens when a till config names no address: its own default port
ATOL_DEFAULT_ADDRESS = f"http://127.0.0.1:{DEFAULT_PORTS['http']}"


def _shtrih(config):
    from .shtrih.driver import ShtrihDriver
    from .transport import make_transport

    return ShtrihDriver(
        make_transport(config),
        password=config.get("password", 30),
        timeouts=config.get("timeouts"),
        retries=config.get("retries", 3),
    )


def _atol(config):
    from .atol.driver import AtolDriver

    return AtolDriver(
        config.get("address") or ATOL_DEFAULT_ADDRESS,
        timeouts=config.get("timeouts"),
        inflight_file=config.get("inflight_file"),
    )


DRIVERS = {"shtrih": _shtrih, "emulator": _shtrih, "atol": _atol}


def make_device(config):
    if not isinstance(config, dict):
        raise RequestInvalid("device config must be a dict with 'type' and 'address'")
    kind = config.get("type") or "shtrih"
    factory = DRIVERS.get(kind)
    if factory is None:
        raise RequestInvalid(f"unknown fiscal device type {kind!r} (known: {', '.join(sorted(DRIVERS))})")
    device = factory(config)
    if config.get("marking"):
        # marked goods: the permissive-mode check (ЛМ ЧЗ / ЧЗ online) before every receipt
        from .marking import MarkingGate, make_checker

        device = MarkingGate(device, make_checker(config["marking"]))
    return device
