"""``make_device(config)``: the one place that knows which driver serves a till.

    make_device({"type": "shtrih", "address": "tcp://127.0.0.1:7778"})
    make_device({"type": "shtrih", "address": "serial:///dev/ttyACM0?baudrate=115200",
                 "password": 30, "timeouts": {"print": 30}})
    make_device({"type": "emulator", "address": "tcp://127.0.0.1:7778"})   # same driver

Callers only see ``FiscalDevice``; an ATOL driver (JSON tasks through ATOL's
driver service) plugs in here as another ``type`` without touching them.
"""
from .errors import RequestInvalid


def _shtrih(config):
    from .shtrih.driver import ShtrihDriver
    from .transport import make_transport
    return ShtrihDriver(make_transport(config), password=config.get("password", 30),
                        timeouts=config.get("timeouts"), retries=config.get("retries", 3))


DRIVERS = {"shtrih": _shtrih, "emulator": _shtrih}


def make_device(config):
    if not isinstance(config, dict):
        raise RequestInvalid("device config must be a dict with 'type' and 'address'")
    kind = config.get("type") or "shtrih"
    factory = DRIVERS.get(kind)
    if factory is None:
        raise RequestInvalid(f"unknown fiscal device type {kind!r} (known: {', '.join(sorted(DRIVERS))})")
    return factory(config)
