"""The interface every fiscal device driver implements.

Callers (the till service, the controller) only ever see ``FiscalDevice``:
the Shtrih-M driver implements it over its binary protocol, and an ATOL
driver (JSON tasks through ATOL's driver service) can be added later without
touching any caller.  All money is int kopecks, quantities int thousandths.
"""

import abc
from dataclasses import asdict, dataclass, field


@dataclass
class FiscalResult:
    """What the fiscal drive returned for a fiscal document."""

    fd_number: int  # tag 1040
    fiscal_sign: int  # tag 1077, printed as <= 10 digits
    fn_serial: str  # tag 1041
    shift_number: int  # tag 1038
    doc_time: str  # ISO 8601 local time of the document (tag 1012)
    receipt_number: int = 0  # tag 1042, receipts only
    fd_type: int = 3  # 2 open shift, 3 receipt, 5 close shift, 31 correction
    qr: str = ""  # tag 1196 text for receipts
    extra: dict = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)


@dataclass
class FNStatus:
    fn_serial: str
    last_fd_number: int
    shift_open: bool
    shift_number: int
    shift_opened_at: str | None  # ISO time, None when no shift open
    open_document: int  # FF01 code: 0 none, 4 receipt, ...
    unconfirmed_count: int  # documents the OFD has not confirmed
    oldest_unconfirmed_at: str | None
    first_unconfirmed_fd: int | None = None
    fn_valid_until: str | None = None
    fn_memory_used_pct: int = 0

    def to_dict(self):
        return asdict(self)


@dataclass
class FoundDocument:
    """A fiscal document read back from the FN archive (Shtrih FF0A)."""

    fd_number: int
    fd_type: int
    fiscal_sign: int
    doc_time: str
    total: int = 0  # kopecks, receipts only
    operation: int = 0  # tag 1054, receipts only
    ofd_confirmed: bool = False

    def to_dict(self):
        return asdict(self)


class FiscalDevice(abc.ABC):
    """One KKT.  Methods raise ``errors.DeviceError`` subclasses for device
    refusals and ``errors.TransportError`` when the reply is unknown."""

    @abc.abstractmethod
    def status(self) -> dict:
        """Short status: mode, paper, cover, KKT clock (ISO), serial."""

    @abc.abstractmethod
    def fn_status(self) -> FNStatus:
        """Fiscal drive status (FF01) plus the OFD exchange status (FF39)."""

    @abc.abstractmethod
    def open_shift(self, cashier: str, cashier_inn: str = "") -> FiscalResult:
        """Open a fiscal shift (FD 2)."""

    @abc.abstractmethod
    def close_shift(self, cashier: str, cashier_inn: str = "") -> FiscalResult:
        """Close the fiscal shift: the Z report (FD 5).  ``extra`` holds the shift counters."""

    @abc.abstractmethod
    def fiscalise(self, document) -> FiscalResult:
        """Register a receipt, refund or correction receipt (an ``ffd`` document)
        and close it.  Either the document is fiscalised or an error is raised
        and nothing stays open on the device (it cancels what it opened)."""

    @abc.abstractmethod
    def cancel_open_document(self) -> bool:
        """Cancel a receipt left open on the device; True when one was open."""

    @abc.abstractmethod
    def find_document(self, fd_number: int) -> FoundDocument | None:
        """Read a fiscal document from the FN archive; None when it does not exist."""

    @abc.abstractmethod
    def cash_in(self, amount: int) -> dict:
        """Register cash put into the drawer (not a fiscal document)."""

    @abc.abstractmethod
    def cash_out(self, amount: int) -> dict:
        """Register cash taken out of the drawer (not a fiscal document)."""

    @abc.abstractmethod
    def x_report(self) -> dict:
        """Print the X report; returns the shift counters."""

    @abc.abstractmethod
    def shift_counters(self) -> dict:
        """Current shift counters: sums/counts by operation and payment type, cash in drawer."""

    @abc.abstractmethod
    def read_ofd_message(self) -> tuple[int, bytes] | None:
        """The FN's oldest pending OFD message as (fd_number, bytes), or None."""

    @abc.abstractmethod
    def write_ofd_ticket(self, ticket: bytes) -> None:
        """Carry an OFD confirmation (FD type 7) back into the FN."""

    def close(self):  # noqa: B027  (optional: a no-op by default, not abstract)
        """Release the transport."""
