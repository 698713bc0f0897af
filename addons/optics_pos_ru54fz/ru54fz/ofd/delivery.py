"""The rules of OFD delivery: one batch of claimed fiscal documents through the transport.

Central stores fiscal documents and claims deliverable ones for delivery jobs (a job key
per batch); ``OfdDelivery.deliver(key)`` is what one run of such a job does:

1. The documents still claimed by ``key`` and still deliverable are locked; documents
   another transaction holds are counted as *busy*.  Nothing locked: postpone when some
   are busy, else the job has nothing left to do (requeued job, racing worker).
2. The shared circuit breaker is asked.  While it is open (or a probe is under way) the
   job is postponed without spending an attempt.
3. The documents are marked *sending*, durably, before the first byte goes out: a worker
   that dies from here on leaves them to the stuck-document cron.
4. They go through one transport, in order:

   * a confirmation (the OFD's ticket) → acknowledged; confirmations are made durable in
     groups (``flush_size`` documents or every ``flush_seconds``), so a dead worker sends at
     most one group again (the OFD answers a repeat with its ticket);
   * a rejection by the OFD (an answer code) → the attempt is counted and the document goes
     to the dead-letter queue at once (kind ``rejected``); a message refused before sending
     (malformed, no OFD code) is dead-lettered as ``malformed``; either way no retry;
   * a transport failure (refused, timeout, reset, garbage) stops the batch: the first
     remaining document spends one attempt and is ``failed``, the others go back to
     ``pending`` untried, the breaker counts a failure.  The job is retried (with the job
     runner's backoff) unless the document has used its budget (``max_attempts``: it is
     dead-lettered as ``exhausted``) or the job has (its retry counter): then the documents
     still deliverable leave this job for a fresh one, with a fresh budget.

   An answer of the OFD (confirmation or rejection) tells the breaker the link works, once
   per run.  Anything unexpected (a bug, a serialization failure) puts the documents still
   *sending* back to *pending* for the job's retry and propagates.

Storage, transactions and locks are the ``DeliveryStorage``'s: the Odoo model implements it
on its table (row locks, commits); ``MemoryDeliveryStorage`` serves tests.  The job runner
(queue_job for the model) is told to retry through ``RetryLater``.
"""

import abc
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field

from ..breaker import BreakerOpen
from .client import OfdRejected, OfdTransportError

#: job keys (queue_job identity keys, and the documents' claim) start with this
JOB_KEY_PREFIX = "optics_fiscal_ofd:"
#: document states the delivery picks up
DELIVERABLE_STATES = ("pending", "failed")
#: confirmed documents are made durable in groups of this size, or at least this often
ACK_FLUSH_SIZE = 25
ACK_FLUSH_SECONDS = 1.0
#: attempts per document (and retries per job) when the company sets none
DEFAULT_MAX_ATTEMPTS = 20
#: seconds a job waits for documents another transaction holds
BUSY_RETRY_SECONDS = 2

#: outcomes of a run that ends without asking for a retry
NOTHING = "nothing"  # nothing left to deliver: already handled
ACKNOWLEDGED = "acknowledged"  # the batch went through (confirmed and/or dead-lettered)
MOVED_ON = "moved_on"  # a budget is spent: the documents left moved to a fresh job


class RetryLater(Exception):
    """The run must be repeated later: after ``seconds`` (None: the runner's backoff).
    ``spend_attempt`` False: the retry does not count against the job's budget."""

    def __init__(self, message, seconds=None, spend_attempt=True):
        super().__init__(message)
        self.seconds = seconds
        self.spend_attempt = spend_attempt


@dataclass
class Document:
    """One claimed document as the delivery sees it: ``message`` is the storage's form of
    the FN message (``DeliveryStorage.message`` turns it into the bytes sent)."""

    id: int
    message: object
    attempts: int = 0


@dataclass
class Ack:
    id: int
    attempt: int
    ticket: bytes


@dataclass
class Outcome:
    kind: str
    acknowledged: int = 0


@dataclass
class Endpoint:
    """Where the claimed documents go: the breaker of their OFD endpoint, how to open the
    transport (may raise ``OfdTransportError``: no host configured) and the attempt budget."""

    breaker: object
    open_transport: object
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


class DeliveryStorage(abc.ABC):
    """The documents and their state, as the delivery rules need them.

    "Durable" below means committed: visible to every worker and kept whatever happens to
    the run afterwards.  Methods not marked durable only become so at the next durable call
    or ``commit``."""

    @abc.abstractmethod
    def lock_claimed(self, key):
        """Lock the documents still claimed by ``key`` and deliverable (skipping those another
        transaction holds); return ``(ids in sending order, number of busy documents)``."""

    @abc.abstractmethod
    def endpoint(self, doc_id):
        """The ``Endpoint`` of the document's company (the first locked document's), or any
        object with its attributes (``max_attempts`` is read once the documents are sending)."""

    @abc.abstractmethod
    def start_sending(self, ids):
        """Mark the documents ``sending``; durable.  Return ``{id: Document}``."""

    @abc.abstractmethod
    def message(self, document):
        """The FN message of ``document`` as bytes for the transport."""

    @abc.abstractmethod
    def record_acks(self, acks):
        """Record the confirmations ``[Ack]`` (acknowledged, ticket, attempt, log); durable."""

    @abc.abstractmethod
    def record_rejection(self, doc_id, attempt, error, kind):
        """Log the rejection, count the attempt, dead-letter the document with ``kind``
        (``rejected`` or ``malformed``); durable."""

    @abc.abstractmethod
    def reload(self):
        """Forget anything cached: later reads see the stored state."""

    @abc.abstractmethod
    def attempts(self, doc_id):
        """The stored attempt count of the document."""

    @abc.abstractmethod
    def record_transport_failure(self, doc_id, attempt, error, rest_ids):
        """Log the failed attempt, mark the document ``failed`` with ``attempt`` and ``error``,
        put ``rest_ids`` (untried) back to ``pending``."""

    @abc.abstractmethod
    def job_retry(self):
        """How many times the running job has been retried already (0 outside a job)."""

    @abc.abstractmethod
    def dead_letter_exhausted(self, doc_id, attempt, error):
        """Dead-letter the document: no confirmation after ``attempt`` attempts."""

    @abc.abstractmethod
    def move_to_new_job(self, ids):
        """Release this job's claim on those of ``ids`` still deliverable (durable) and
        enqueue them again, in fresh jobs."""

    @abc.abstractmethod
    def commit(self):
        """Make everything recorded so far durable."""

    @abc.abstractmethod
    def abort_sending(self, key, ids):
        """After an unexpected error: drop what is not durable, put those of ``ids`` still
        ``sending`` under ``key`` back to ``pending``; durable."""


class OfdDelivery:
    """The delivery rules over a ``DeliveryStorage`` (see the module docstring)."""

    def __init__(
        self, storage, flush_size=ACK_FLUSH_SIZE, flush_seconds=ACK_FLUSH_SECONDS, clock=time.monotonic
    ):
        self.storage = storage
        self.flush_size = flush_size
        self.flush_seconds = flush_seconds
        self.clock = clock

    def deliver(self, key):
        """Deliver the documents claimed by ``key``; return an ``Outcome`` or raise
        ``RetryLater``."""
        storage = self.storage
        locked, busy = storage.lock_claimed(key)
        if not locked:
            if busy:
                raise RetryLater(
                    "documents locked by another transaction", seconds=BUSY_RETRY_SECONDS, spend_attempt=False
                )
            return Outcome(NOTHING)
        endpoint = storage.endpoint(locked[0])
        try:
            endpoint.breaker.before_call()
        except BreakerOpen as exc:
            raise RetryLater(
                str(exc), seconds=max(1, int(exc.retry_after + 0.999)), spend_attempt=False
            ) from None
        documents = storage.start_sending(locked)
        try:
            return self._send(endpoint, busy, documents, list(locked))
        except RetryLater:
            raise
        except Exception:
            # the documents not dealt with go back to pending for the retry, never stay "sending"
            storage.abort_sending(key, locked)
            raise

    def _flush(self, acks):
        if acks:
            self.storage.record_acks(list(acks))
            acks.clear()

    def _send(self, endpoint, busy, documents, todo):
        """Send the documents of ``todo`` (ids, consumed as they are dealt with)."""
        storage = self.storage
        breaker = endpoint.breaker
        max_attempts = endpoint.max_attempts
        acknowledged = 0
        acks = []
        link_ok = False
        failure = None
        transport = None
        last_flush = self.clock()
        try:
            transport = endpoint.open_transport()
        except OfdTransportError as exc:
            failure = exc
        while todo and failure is None:
            document = documents[todo[0]]
            try:
                ticket = transport.send(storage.message(document))
            except OfdRejected as exc:
                todo.pop(0)
                self._flush(acks)
                answered = exc.ofd_code is not None  # else refused locally: malformed message
                if answered and not link_ok:
                    breaker.record_success()  # the OFD answered: the link works
                    link_ok = True
                storage.record_rejection(
                    document.id, document.attempts + 1, str(exc), "rejected" if answered else "malformed"
                )
                continue
            except OfdTransportError as exc:
                failure = exc
                break
            todo.pop(0)
            if not link_ok:
                breaker.record_success()
                link_ok = True
            acks.append(Ack(document.id, document.attempts + 1, ticket))
            acknowledged += 1
            # If this worker dies, at most one group is sent again.
            if len(acks) >= self.flush_size or self.clock() - last_flush > self.flush_seconds:
                self._flush(acks)
                last_flush = self.clock()
        self._flush(acks)
        if transport is not None:
            transport.close()
        storage.reload()
        if failure is None:
            if busy:
                raise RetryLater(
                    "some documents were locked by another transaction",
                    seconds=BUSY_RETRY_SECONDS,
                    spend_attempt=False,
                )
            return Outcome(ACKNOWLEDGED, acknowledged)

        # A transport failure: the first remaining document spent an attempt, the rest
        # were not tried.
        breaker.record_failure(str(failure))
        doc_id, rest = todo[0], todo[1:]
        attempt = storage.attempts(doc_id) + 1
        storage.record_transport_failure(doc_id, attempt, str(failure), rest)
        job_exhausted = storage.job_retry() + 1 >= max_attempts
        if attempt >= max_attempts:
            storage.dead_letter_exhausted(doc_id, attempt, str(failure))
        if attempt >= max_attempts or job_exhausted:
            # This job's retry budget belongs to the failed document: the others move to a
            # fresh job with a fresh budget.
            storage.move_to_new_job([doc_id, *rest])
            return Outcome(MOVED_ON)
        storage.commit()
        raise RetryLater(str(failure))


# ---------------------------------------------------------------------- batching
def plan_batches(candidates, batch_size, new_token=None):
    """Split ``candidates`` ``[(id, uuid)]`` (in sending order) into jobs of at most
    ``batch_size`` documents; return ``[(job key, [ids])]``.  A job of one document
    (batch size 1) is keyed by the document's uuid, a batch by a fresh random token."""
    new_token = new_token or (lambda: uuidlib.uuid4().hex)
    batch = max(1, batch_size or 1)
    plan = []
    for start in range(0, len(candidates), batch):
        chunk = candidates[start : start + batch]
        if batch == 1:
            key = f"{JOB_KEY_PREFIX}{chunk[0][1]}"
        else:
            key = f"{JOB_KEY_PREFIX}batch:{new_token()}"
        plan.append((key, [c[0] for c in chunk]))
    return plan


def stuck_after_seconds(read_timeout, batch_size):
    """How long a document may stay ``sending`` before the requeue cron takes it back: the
    batch's worst case (every document waiting out the read timeout) plus 5 minutes."""
    return (read_timeout or 10) * max(1, batch_size) + 300


# ---------------------------------------------------------------------- in memory
@dataclass
class MemoryDocument:
    id: int
    message: bytes
    state: str = "pending"
    attempts: int = 0
    job_key: str = None
    last_error: str = None
    ticket: bytes = None
    log: list = field(default_factory=list)  # [(kind, attempt, message)]


class MemoryDeliveryStorage(DeliveryStorage):
    """Documents in a dict, for tests and single-process use.  ``locked_elsewhere`` holds ids
    another transaction has locked; ``job_retries`` plays the job runner's retry counter;
    documents moved to a fresh job are claimed by a new key listed in ``enqueued``."""

    def __init__(self, endpoint, documents=(), job_retries=0):
        self._endpoint = endpoint
        self.documents = {d.id: d for d in documents}
        self.locked_elsewhere = set()
        self.job_retries = job_retries
        self.dead_letters = []  # [(id, kind, reason)]
        self.enqueued = []  # [(key, [ids])]
        self.commits = 0
        self._lock = threading.Lock()

    def add(self, doc_id, message, **values):
        self.documents[doc_id] = MemoryDocument(doc_id, message, **values)
        return self.documents[doc_id]

    def claim(self, ids=None, batch_size=None):
        """Claim deliverable unclaimed documents into jobs (``plan_batches``); return the plan."""
        ids = sorted(self.documents) if ids is None else ids
        free = [
            (i, str(i))
            for i in ids
            if self.documents[i].state in DELIVERABLE_STATES and not self.documents[i].job_key
        ]
        plan = plan_batches(free, batch_size or len(free) or 1)
        for key, chunk in plan:
            for i in chunk:
                self.documents[i].job_key = key
        self.enqueued.extend(plan)
        return plan

    # -- DeliveryStorage
    def lock_claimed(self, key):
        with self._lock:
            claimed = sorted(
                i for i, d in self.documents.items() if d.job_key == key and d.state in DELIVERABLE_STATES
            )
            locked = [i for i in claimed if i not in self.locked_elsewhere]
            return locked, len(claimed) - len(locked)

    def endpoint(self, doc_id):
        return self._endpoint

    def start_sending(self, ids):
        for i in ids:
            self.documents[i].state = "sending"
        self.commits += 1
        return {i: Document(i, self.documents[i].message, self.documents[i].attempts) for i in ids}

    def message(self, document):
        return document.message

    def record_acks(self, acks):
        for ack in acks:
            doc = self.documents[ack.id]
            doc.state, doc.attempts, doc.ticket = "acknowledged", ack.attempt, ack.ticket
            doc.job_key = doc.last_error = None
            doc.log.append(("ack", ack.attempt, "Confirmed by the OFD"))
        self.commits += 1

    def record_rejection(self, doc_id, attempt, error, kind):
        doc = self.documents[doc_id]
        doc.log.append(("rejected", attempt, error))
        doc.attempts, doc.last_error = attempt, error
        self._dead_letter(doc, error, kind)
        self.commits += 1

    def _dead_letter(self, doc, reason, kind):
        doc.state, doc.job_key = "dead_lettered", None
        self.dead_letters.append((doc.id, kind, reason))

    def reload(self):
        pass

    def attempts(self, doc_id):
        return self.documents[doc_id].attempts

    def record_transport_failure(self, doc_id, attempt, error, rest_ids):
        doc = self.documents[doc_id]
        doc.log.append(("transport", attempt, error))
        doc.attempts, doc.last_error, doc.state = attempt, error, "failed"
        for i in rest_ids:
            self.documents[i].state = "pending"

    def job_retry(self):
        return self.job_retries

    def dead_letter_exhausted(self, doc_id, attempt, error):
        self._dead_letter(
            self.documents[doc_id],
            f"No OFD confirmation after {attempt} attempts; last error: {error}",
            "exhausted",
        )

    def move_to_new_job(self, ids):
        ids = [i for i in ids if self.documents[i].state in DELIVERABLE_STATES]
        for i in ids:
            self.documents[i].job_key = None
        self.commits += 1
        self.claim(ids, batch_size=len(ids) or 1)

    def commit(self):
        self.commits += 1

    def abort_sending(self, key, ids):
        for i in ids:
            doc = self.documents[i]
            if doc.state == "sending" and doc.job_key == key:
                doc.state = "pending"
        self.commits += 1
