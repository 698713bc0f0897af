"""Shtrih-M error byte -> typed ``ru54fz.errors`` exception.

Codes 0x01..0x2F are the fiscal drive's own errors passed through by the KKT
(54fz.md §2.3), the rest are KKT errors (54fz.md §4.2 and the Shtrih error
list).  Messages are the English cashier-facing text; translation happens
where the message reaches a person.
"""

from .. import errors as E

FN_CODES = range(0x01, 0x30)

#: code -> (exception class, message)
CODES = {
    0x01: (E.DeviceError, "Fiscal drive: unknown command or wrong format"),
    0x02: (E.DeviceError, "Fiscal drive: the command is not allowed in its current state"),
    0x03: (E.DeviceError, "Fiscal drive failure: call service"),
    0x04: (E.DeviceError, "Fiscal drive crypto-processor failure: call service"),
    0x05: (E.FiscalDriveFull, "The fiscal drive's lifetime is over: replace the fiscal drive"),
    0x06: (E.FiscalDriveFull, "The fiscal drive's archive is full: replace the fiscal drive"),
    0x07: (E.ClockMismatch, "Fiscal drive: wrong date/time: set the KKT clock"),
    0x08: (E.DeviceError, "Fiscal drive: no such data"),
    0x09: (E.DeviceError, "Fiscal drive: invalid command parameters"),
    0x10: (E.DeviceError, "Fiscal drive: the document data are too large"),
    0x11: (E.DeviceError, "Fiscal drive: no transport connection"),
    0x12: (E.FiscalDriveFull, "The fiscal drive's crypto resource is exhausted: replace the fiscal drive"),
    0x14: (
        E.OfdBacklogBlocked,
        "Fiscal drive storage resource exhausted: documents have not reached "
        "the OFD for 30 days; restore the OFD connection",
    ),
    0x15: (
        E.OfdBacklogBlocked,
        "Fiscal drive blocked: documents unconfirmed by the OFD for 30 days; restore the OFD connection",
    ),
    0x16: (E.ShiftExpired, "The shift is over 24 hours: close the shift (Z report) and open a new one"),
    0x17: (E.ClockMismatch, "Wrong time difference between two operations: check the KKT clock"),
    0x20: (E.OfdTicketRejected, "The fiscal drive rejected the OFD confirmation"),
    0x33: (E.DeviceError, "KKT: invalid command parameters"),
    0x37: (E.DeviceError, "KKT: command not supported"),
    0x3D: (E.ShiftClosed, "No shift is open on the KKT: open a shift first"),
    0x45: (E.DeviceError, "KKT: the payments are less than the receipt total"),
    0x46: (E.InsufficientCash, "Not enough cash in the drawer"),
    0x4A: (E.DeviceError, "KKT: a receipt is open: finish or cancel it first"),
    0x4E: (E.ShiftExpired, "The shift is over 24 hours: close the shift (Z report) and open a new one"),
    0x4F: (E.DeviceError, "KKT: wrong password"),
    0x50: (E.DeviceBusy, "The KKT is printing the previous command: retry in a moment"),
    0x55: (E.DeviceError, "KKT: the receipt is closed: operation not possible"),
    0x5E: (
        E.DeviceError,
        "KKT: wrong operation for this document (a refund correction needs an FFD 1.2 KKT)",
    ),
    0x58: (E.DeviceBusy, "The KKT waits for the continue-printing command"),
    0x6B: (E.PaperOut, "The printer is out of paper: load a new roll and retry"),
    0x6C: (E.PaperOut, "The printer is out of journal paper: load a new roll and retry"),
    0x71: (E.DeviceError, "KKT printer mechanism error"),
    0x73: (E.DeviceError, "KKT: command not supported in this mode"),
    0x7E: (E.DeviceError, "KKT: wrong length field"),
    0x8E: (E.DeviceError, "KKT: the receipt total is zero"),
}

#: Codes after which the driver reads the printer flags to tell paper from cover.
PRINTER_CODES = frozenset({0x50, 0x58, 0x6B, 0x6C, 0x71})

#: Codes the device uses for a wrong request that we sent (driver bug or bad data).
NO_DATA = 0x08


def error_for(code, command_label="", cover_open=None, paper_present=None):
    """The exception for a non-zero error byte.

    ``cover_open`` / ``paper_present`` come from the short status read after a
    printer-class error: the printer flags decide between paper and cover,
    as the vendor driver does (javapos SMFiscalPrinterImpl: PAPER_OR_COVER)."""
    if code in PRINTER_CODES and cover_open:
        cls, message = E.CoverOpen, "The printer cover is open: close it and retry"
    elif code in PRINTER_CODES and paper_present is False:
        cls, message = E.PaperOut, CODES[0x6B][1]
    elif code in CODES:
        cls, message = CODES[code]
    elif code in FN_CODES:
        cls, message = E.DeviceError, f"Fiscal drive error {code:#04x}"
    else:
        cls, message = E.DeviceError, f"KKT error {code:#04x}"
    source = "fn" if code in FN_CODES else "kkt"
    exc = cls(message, device_code=code, source=source)
    if command_label:
        exc.details["command"] = command_label
    return exc
