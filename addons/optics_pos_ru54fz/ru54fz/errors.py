"""Typed errors of the fiscal path.

Each error carries a stable ``code`` (a short English key the POS front end
and the Odoo layer translate) and an English ``message`` for logs.  The plain
library cannot use Odoo's translation machinery, so translation happens where
the message reaches a person: ``_()`` in models/controllers, ``_t`` in the POS.
"""


class FiscalError(Exception):
    """Base of every error raised by the fiscal core."""

    code = "fiscal_error"
    #: True when repeating the same operation later may succeed unchanged.
    retryable = False
    #: HTTP status the till controller answers with.
    http_status = 500

    def __init__(self, message=None, **details):
        self.message = message or self.__class__.__doc__.strip().splitlines()[0]
        self.details = details
        super().__init__(self.message)

    def to_dict(self):
        return {"code": self.code, "message": self.message, "retryable": self.retryable, **self.details}


class DocumentInvalid(FiscalError):
    """The fiscal document is not valid FFD 1.2."""

    code = "document_invalid"
    http_status = 400

    def __init__(self, message, field=None, **details):
        super().__init__(message, field=field, **details)
        self.field = field


class RequestInvalid(FiscalError):
    """The request is malformed."""

    code = "request_invalid"
    http_status = 400


class Conflict(FiscalError):
    """The operation conflicts with the state of another document."""

    code = "conflict"
    http_status = 409


class JournalUnavailable(FiscalError):
    """The till journal cannot record the operation; nothing was sent to the KKT."""

    code = "journal_unavailable"
    http_status = 503


class TransportError(FiscalError):
    """No answer from the device (link down, timeout, garbled reply)."""

    code = "device_unreachable"
    retryable = True
    http_status = 503


class DeviceError(FiscalError):
    """The KKT or its fiscal drive refused the command."""

    code = "device_error"
    http_status = 502

    def __init__(self, message=None, device_code=None, source="kkt", **details):
        super().__init__(message, device_code=device_code, source=source, **details)
        self.device_code = device_code
        self.source = source


class PaperOut(DeviceError):
    """The printer is out of paper: load a new roll and retry."""

    code = "paper_out"
    retryable = True


class CoverOpen(DeviceError):
    """The printer cover is open: close it and retry."""

    code = "cover_open"
    retryable = True


class DeviceBusy(DeviceError):
    """The KKT is busy printing: retry in a moment."""

    code = "device_busy"
    retryable = True


class ShiftExpired(DeviceError):
    """The shift is over 24 hours: close the shift (Z report) and open a new one."""

    code = "shift_expired"


class ShiftClosed(DeviceError):
    """No shift is open on the KKT: open a shift first."""

    code = "shift_closed"


class FiscalDriveFull(DeviceError):
    """The fiscal drive is full or its lifetime is over: replace the FN."""

    code = "fn_full"


class OfdBacklogBlocked(DeviceError):
    """The fiscal drive is blocked: documents unconfirmed by the OFD for 30 days."""

    code = "ofd_30_days"


class ClockMismatch(DeviceError):
    """The KKT clock differs from the till clock by more than 5 minutes."""

    code = "clock_mismatch"


class InsufficientCash(DeviceError):
    """Not enough cash in the drawer for this payout."""

    code = "insufficient_cash"


class OfdTicketRejected(DeviceError):
    """The fiscal drive did not accept the OFD confirmation."""

    code = "ofd_ticket_rejected"
