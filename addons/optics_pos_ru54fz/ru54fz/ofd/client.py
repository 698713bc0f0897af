"""Carrying fiscal drive messages to the OFD and its confirmations back.

``OfdTransport.send(message)`` takes the FN's container for one fiscal document
and returns the OFD's ticket (the FD type 7 confirmation container) as bytes.
It raises

* ``OfdTransportError`` (retryable) when the OFD could not be reached or its
  answer is unusable: refused/reset connection, connect or read timeout, a
  garbled reply.  Repeating the same message later may succeed.
* ``OfdRejected`` (permanent) when the OFD answered and refused the document,
  or when the message itself is malformed so no OFD would accept it.
"""

import abc
import socket
import time

from ..errors import FiscalError
from . import protocol


class OfdError(FiscalError):
    """The OFD exchange failed."""

    code = "ofd_error"


class OfdTransportError(OfdError):
    """The OFD is unreachable or answered with something unusable."""

    code = "ofd_unreachable"
    retryable = True
    http_status = 503


class OfdRejected(OfdError):
    """The OFD refused the document (or it is malformed): retrying cannot fix it."""

    code = "ofd_rejected"
    http_status = 502

    def __init__(self, message=None, ofd_code=None, **details):
        super().__init__(message, ofd_code=ofd_code, **details)
        self.ofd_code = ofd_code


class OfdTransport(abc.ABC):
    """One interface for every way to reach an OFD."""

    @abc.abstractmethod
    def send(self, message: bytes) -> bytes:
        """Deliver one FN message (container bytes); return the confirmation container."""

    def close(self):  # noqa: B027  (optional: a no-op by default, not abstract)
        """Release the connection, if any."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check_message(message):
    """Parse the FN message before sending: a malformed one is a permanent rejection."""
    try:
        return protocol.Container.unpack(message)
    except protocol.ProtocolError as exc:
        raise OfdRejected(
            f"the fiscal drive message is malformed: {exc}", ofd_code=None, reason=exc.reason
        ) from None


class TcpOfdTransport(OfdTransport):
    """The OFD session protocol over TCP.

    The connection is kept open between ``send`` calls (a batch goes through one
    connection) and reopened transparently when the OFD has closed it."""

    def __init__(self, host, port, connect_timeout=5.0, read_timeout=10.0):
        self.host = host
        self.port = int(port)
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self._sock = None
        #: stale confirmations skipped (the OFD confirmed something twice)
        self.duplicates_skipped = 0

    # ------------------------------------------------------------------ connection
    def _connect(self):
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise OfdTransportError(
                f"cannot connect to the OFD {self.host}:{self.port}: {exc.__class__.__name__}: {exc}"
            ) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.read_timeout)
        self._sock = sock
        return sock

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _read_exactly(self, sock, size, deadline):
        chunks = []
        remaining = size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("read deadline exceeded")
            sock.settimeout(left)
            chunk = sock.recv(remaining)
            if not chunk:
                raise ConnectionResetError("the OFD closed the connection")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    # ------------------------------------------------------------------------ send
    def send(self, message):
        container = check_message(message)
        frame = protocol.pack_session(message, container.fn_number)
        reused = self._sock is not None
        try:
            return self._exchange(frame, container)
        except _PeerClosedBeforeReply:
            self.close()
            if not reused:
                raise OfdTransportError("the OFD closed the connection without answering") from None
            # The OFD closes idle connections: nothing of ours was read, send again once.
            try:
                return self._exchange(frame, container)
            except _PeerClosedBeforeReply:
                self.close()
                raise OfdTransportError("the OFD closed the connection without answering") from None

    def _exchange(self, frame, container):
        sock = self._sock or self._connect()
        deadline = time.monotonic() + self.read_timeout
        try:
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                raise _PeerClosedBeforeReply() from None
            while True:
                try:
                    head = self._read_exactly(sock, protocol.SESSION_HEADER_SIZE, deadline)
                except ConnectionResetError:
                    raise _PeerClosedBeforeReply() from None
                header = protocol.SessionHeader.unpack(head)
                body = self._read_exactly(sock, header.length, deadline)
                protocol.unpack_session(head + body)
                ticket = protocol.parse_ticket(body)
                if (ticket.fn_number, ticket.fd_number) != (container.fn_number, container.fd_number):
                    if ticket.fn_number == container.fn_number and ticket.fd_number < container.fd_number:
                        # A second confirmation of an earlier document: already handled.
                        self.duplicates_skipped += 1
                        continue
                    raise protocol.ProtocolError(
                        f"confirmation for FN {ticket.fn_number} FD {ticket.fd_number} does not "
                        f"match the message sent (FN {container.fn_number} FD {container.fd_number})"
                    )
                break
        except _PeerClosedBeforeReply:
            raise
        except TimeoutError:
            self.close()
            raise OfdTransportError(
                f"the OFD {self.host}:{self.port} did not answer within {self.read_timeout:g} s"
            ) from None
        except protocol.ProtocolError as exc:
            self.close()
            raise OfdTransportError(f"unusable answer from the OFD: {exc}", reason=exc.reason) from None
        except OSError as exc:
            self.close()
            raise OfdTransportError(
                f"connection to the OFD failed: {exc.__class__.__name__}: {exc}"
            ) from None
        if not ticket.accepted:
            raise OfdRejected(
                f"the OFD rejected FD {ticket.fd_number} of FN {ticket.fn_number} "
                f"with code {ticket.code}: {ticket.message or 'no reason given'}",
                ofd_code=ticket.code,
                ticket=ticket.raw.hex(),
            )
        return ticket.raw


class _PeerClosedBeforeReply(Exception):
    pass
