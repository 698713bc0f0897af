"""Marking codes as a 2D scanner types them (GS = 0x1D between variable fields), and a
register's driver that checks them."""

import contextlib

GS = "\x1d"


def gtin(body="460123456789"):
    """A GTIN-14 with a correct check digit from 12 or 13 leading digits."""
    digits = ("0" + body)[-13:]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return digits + str((10 - total % 10) % 10)


def code(serial="5Xq!rT8aB2cD3", product="460123456789", tail="93", crypto="dGVz"):
    """A БАД / cosmetics style code: 01 GTIN 21 serial GS 93 crypto (or 91/92)."""
    if tail == "93":
        return f"01{gtin(product)}21{serial}{GS}93{crypto}"
    return f"01{gtin(product)}21{serial}{GS}91EE10{GS}92{'A' * 44}"


def cis(raw):
    from ru54fz.marking import parse

    return parse(raw).cis


def online_marking(checker, timeout=0.3):
    """The ``marking`` part of a device config: codes checked with ``checker``'s online API."""
    return {"online": {"url": checker.url, "timeout": timeout}}


@contextlib.contextmanager
def device_on_shift(register, checker, timeouts, *cashier):
    """The driver of ``register`` (an emulator process, reset to a fresh FN) with the shift of
    ``cashier`` (name, INN) open, checking codes with ``checker``; closed on exit."""
    from ru54fz.devices import make_device

    register.control.reset()
    device = make_device({**register.config, "timeouts": timeouts, "marking": online_marking(checker)})
    device.open_shift(*cashier)
    try:
        yield device
    finally:
        device.close()
