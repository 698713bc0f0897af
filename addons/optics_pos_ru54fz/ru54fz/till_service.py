"""The till's brain: journal first, then the KKT, exactly once.

``TillService(journal, device, config)`` serves the till HTTP API (docs/fiscal_contracts.md; the controller is
a thin HTTP layer over it).  Rules it keeps:

* Bad input is rejected (400) before anything is journaled.
* An operation is journaled (keyed by its UUID) before the KKT is touched; if
  it cannot be journaled the request fails with ``JournalUnavailable`` and
  the KKT never sees it.
* Before the close command of a fiscal document the journal records the FN
  serial and the FD number the document will get (``sent``).  After a crash
  or a lost reply, ``settle()`` looks that number up in the FN: fiscalised ->
  recorded; a document open on the KKT -> cancelled and retried; absent ->
  retried.  ``start()`` settles before serving anything.
* The same UUID posted any number of times, concurrently or not, yields one
  fiscal document; replays get the stored answer.
* A refund needs its original sale, confirmed by the OFD (else 409) while the
  company's refund saga policy asks for it (the default; off: fiscalised by an
  FN is enough, docs/refund_saga.md), paid back by the means the sale was paid
  with.  An original this till does not know
  is looked up on central (``CentralClient.refundable``: it must exist, be of
  this till's company, be confirmed and not be refunded already); what the
  client says about it is never trusted.  Without central's word only a store
  manager's ``refund_override`` grant lets it through (audited).
* Manager-only actions (close_shift, cash_out, correction, refund override)
  need a store manager's grant signed by central (``ru54fz/grants.py``) when
  ``manager_grants`` is on -- always, behind the till proxy's HTTP API.
* One owner per till: every use of the KKT holds the till's owner lock
  (ru54fz/ownership.py), across threads, prefork workers and machines; a
  process that cannot get it in time answers ``till_busy`` (503) untouched.
* Sales are refused when the till and KKT clocks differ by more than 5 min.
* A background pusher delivers fiscalised entries to central in HLC order and
  carries OFD tickets back into the FN.

Fault injection: ``config["fault_hook"]`` may be a callable taking a point
name; it is called at ``before_journal``, ``after_journal``, ``after_sent``,
``after_device`` and ``before_delivery``.  Absent (the default), each point
costs one attribute test.  Only the crash tests use it.
"""

import base64
import dataclasses
import datetime
import logging
import random
import threading
import time
import weakref

from . import errors, ffd, grants, shift_counters, till_health, till_time
from .central_client import CentralClient, CentralRefused
from .device import FiscalResult
from .journal import FISCAL_KINDS
from .ownership import FileOwnerLock, OwnerGuard

_logger = logging.getLogger(__name__)

DEFAULTS = {
    "till_code": "",
    "central_url": "",
    "central_token": "",
    "clock_warn_seconds": till_health.THRESHOLDS["clock_skew"]["yellow"],
    "clock_block_seconds": till_health.THRESHOLDS["clock_skew"]["red"],  # the legal 5 minutes
    "clock_check_interval": 30,  # seconds between KKT clock reads on the sale path
    "push_interval": 5.0,
    # after a push that carried the FN's OFD message, the next push comes this soon (doubling
    # up to push_interval while no ticket arrives): central delivers the message in a job and
    # hands the ticket back in a later reply, and the FN gives out its next message only then
    "ofd_ticket_poll": 1.0,
    "push_batch": 200,
    "push_max_rounds": 1000,
    # seconds between status reports to central (FN figures, journal fill, health: the
    # dashboard's minute-scale view; the POS reads the till's own status, not central's).
    # A status costs the till three KKT commands and central a write, so not every push
    # carries one: the first after start does, then one per interval
    "push_status_interval": 60.0,
    # an OFD message central has already taken is carried again only after this many
    # seconds without its ticket (central keeps the message and retries the OFD itself;
    # the re-send only covers a central that lost the document, e.g. restored from backup)
    "ofd_resend_seconds": 30.0,
    "push_backoff_max": 60.0,
    # every wait of the push loop is spread by up to this fraction either way: tills started
    # together (a store's morning, central back after a restart, the OFD back after an
    # outage) would otherwise push in step, each round a burst that queues at central
    "push_jitter": 0.2,
    "push_timeout": 10.0,
    "compact_after_days": 90,
    "compact_interval": 3600.0,  # seconds between compactions (in the pusher thread)
    "ofd_limit_days": till_health.THRESHOLDS["ofd_blocked"]["red"],
    "shift_limit_hours": till_health.THRESHOLDS["shift_age"]["red"],
    # entries central refused for good (dead_letter) are offered again this often, a
    # few per push: a fixed central (or a fixed setting) takes them without a human
    "dead_letter_retry_seconds": 3600.0,
    "dead_letter_retry_batch": 10,
    "fault_hook": None,
    "autopush": True,
    # one owner per till across processes (ru54fz/ownership.py): how long an operation
    # waits for the till before answering till_busy, and whether the KKT link is closed
    # when the till is handed back (a serial port or the KKT's one TCP connection)
    "owner_wait_seconds": 20.0,
    "release_device_link": True,
    # refund saga policy (docs/refund_saga.md): None = keep what the till knows (its
    # journal remembers what central said last; default True)
    "refund_requires_ofd_confirmation": None,
    # the till proxy turns this on (controllers/hw_proxy.py): manager-only actions then need
    # a grant verified with grant_public_key (base64 Ed25519 public key of central)
    "manager_grants": False,
    "grant_public_key": "",
}

FD_TYPES = {"sale": 3, "refund": 3, "correction": 31, "open_shift": 2, "close_shift": 5}
KIND_BY_OPERATION = {1: "sale", 2: "refund"}


class TillService:
    def __init__(self, journal, device, config=None, clock=None, owner_lock=None):
        """``owner_lock``: the cross-process lock of this till (ru54fz/ownership.py);
        by default a ``flock`` beside the journal file, so two services on one
        journal never both drive the KKT."""
        self.journal = journal
        self.device = device
        self.config = dict(DEFAULTS, **(config or {}))
        self.clock = clock or journal.clock
        self._fault = self.config["fault_hook"]
        if owner_lock is None and journal.path != ":memory:":
            owner_lock = FileOwnerLock(journal.path + ".owner")
        #: held around every use of the KKT: this thread, this process, this till's owner
        self._device_lock = OwnerGuard(
            owner_lock, wait=self.config["owner_wait_seconds"], on_release=self._release_device
        )
        if self.config["refund_requires_ofd_confirmation"] is not None:
            self.set_refund_requires_ofd(self.config["refund_requires_ofd_confirmation"])
        self._uuid_locks = weakref.WeakValueDictionary()
        self._uuid_locks_guard = threading.Lock()
        self._clock_checked_at = None
        self._clock_state = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._random = random.Random()  # the push loop's jitter: its own, not the global generator
        self._pusher = None
        self.push_state = {"last_ok": None, "last_error": None, "backoff": 0.0}
        self._status_pushed_at = None  # monotonic time of the last status sent to central
        #: FD number -> monotonic time its OFD message was last carried to central
        self._ofd_carried = {}
        #: uuids whose OFD ticket this till wrote into its FN, for central's next push: central
        #: stops handing those tickets back (before, only the next status report told it)
        self._tickets_written = []
        self._ofd_outstanding = None  # FD whose OFD ticket the till waits for (a push poll sooner)
        self.central = None
        if self.config["central_url"]:
            self.central = CentralClient(
                self.config["central_url"],
                self.config["till_code"],
                self.config["central_token"],
                timeout=self.config["push_timeout"],
            )
        self.started = False

    # -- life cycle ---------------------------------------------------------------
    def start(self):
        """Settle what a previous run left half-done, then start the pusher."""
        self.settle()
        self.started = True
        if self.central and self.config["autopush"] and not self._pusher:
            self._pusher = threading.Thread(target=self._push_loop, name="ru54fz-pusher", daemon=True)
            self._pusher.start()
        return self

    def stop(self):
        self._stop.set()
        self._wake.set()
        if self._pusher:
            self._pusher.join(timeout=5)
            self._pusher = None
        self._device_lock.close()

    def _release_device(self):
        """The till is handed back: close the KKT link so the next owner can open it."""
        if self.config["release_device_link"]:
            self.device.close()

    # -- refund saga policy (docs/refund_saga.md) -------------------------------------
    def refund_requires_ofd(self):
        """True: a refund waits for the OFD's confirmation of its sale (the default).
        False: a sale the FN has fiscalised is always refundable."""
        return self.journal.get_meta("refund_requires_ofd_confirmation", "1") == "1"

    def set_refund_requires_ofd(self, value):
        """Remember the company's policy (from the config or central's push reply)
        in the journal, so a till restarted offline still applies it."""
        self.journal.set_meta("refund_requires_ofd_confirmation", "1" if value else "0")

    def _point(self, name):
        if self._fault is not None:
            self._fault(name)

    def _uuid_lock(self, uuid):
        with self._uuid_locks_guard:
            lock = self._uuid_locks.get(uuid)
            if lock is None:
                lock = threading.Lock()
                self._uuid_locks[uuid] = lock
            return lock

    # -- settlement (exactly once) ------------------------------------------------------
    def settle(self):
        """Resolve every entry left ``sent`` (and run every entry left ``journaled``)
        by asking the FN.  Returns the number of entries settled.  Raises when the
        KKT or the journal cannot be reached: nothing may be served before."""
        n = 0
        with self._device_lock:
            for state in ("sent", "journaled"):
                for entry in self.journal.in_state(state, limit=100000):
                    with self._uuid_lock(entry["uuid"]):
                        entry = self.journal.get(entry["uuid"])
                        try:
                            if entry["state"] == "sent":
                                self._settle_entry(entry)
                            elif entry["state"] == "journaled":
                                self._execute(entry)
                        except (errors.TransportError, errors.JournalUnavailable):
                            raise
                        except errors.FiscalError as exc:
                            # the KKT refused it (shift over, paper out...): recorded as
                            # failed; the POS posting the uuid again retries it
                            _logger.warning("journal entry %s not completed on start: %s", entry["uuid"], exc)
                    n += 1
        return n

    def _settle_entry(self, entry, retry=True):
        """One ``sent`` entry: find out from the FN whether it was fiscalised.
        Not fiscalised: run it again (``retry``) or put it back to ``journaled``
        and report the KKT unreachable (the caller just lost the link)."""
        if entry["state"] != "sent":
            return entry
        kind = entry["kind"]
        if kind not in FISCAL_KINDS:
            return self._settle_non_fiscal(entry, retry)
        fn = self.device.fn_status()
        if fn.open_document:
            # our document was interrupted before its close: nothing was fiscalised
            self.device.cancel_open_document()
            fn = self.device.fn_status()
        found = None
        if entry["fn_serial"] and fn.fn_serial != entry["fn_serial"]:
            err = {
                "code": "fn_replaced",
                "message": (
                    f"the fiscal drive changed from {entry['fn_serial']} to {fn.fn_serial} while this "
                    f"operation was in flight; check the old drive's archive by hand"
                ),
            }
            self.journal.mark_failed(entry["uuid"], err)
            return self.journal.get(entry["uuid"])
        expected = entry["expected_fd"]
        if expected and fn.last_fd_number >= expected:
            found = self._find_ours(entry, expected, fn.last_fd_number)
        if found:
            if not entry["shift_number"] and not fn.shift_number:
                fn = self.device.fn_status()
            result = FiscalResult(
                fd_number=found.fd_number,
                fiscal_sign=found.fiscal_sign,
                fn_serial=fn.fn_serial,
                shift_number=entry["shift_number"] or fn.shift_number,
                doc_time=found.doc_time,
                fd_type=found.fd_type,
                extra={"settled": True},
            )
            payload = _payload(entry)
            if kind in ("sale", "refund", "correction"):
                result.qr = ffd.qr_text(result, payload.get("total", 0), payload.get("operation", 1))
            self._record(entry, result)
            return self.journal.get(entry["uuid"])
        # not in the FN: retry from the journal
        return self._retry(entry, retry)

    def _find_ours(self, entry, first, last):
        payload = _payload(entry)
        want_type = FD_TYPES[entry["kind"]]
        for fd in range(first, min(last, first + 8) + 1):
            other = self.journal.by_fd_number(fd)
            if other and other["uuid"] != entry["uuid"] and other["fn_serial"] == entry["fn_serial"]:
                continue  # that FD is already another journaled operation's
            doc = self.device.find_document(fd)
            if doc is None or doc.fd_type != want_type:
                continue
            if want_type in (3, 31) and (
                doc.total != payload.get("total") or doc.operation != payload.get("operation")
            ):
                continue
            return doc
        return None

    def _settle_non_fiscal(self, entry, retry=True):
        """Cash in/out and X report leave no FD to look up.  The KKT's cash
        counters tell whether a cash operation went through: the journal kept
        them from just before the command."""
        kind = entry["kind"]
        if kind == "x_report":
            return self._retry(entry, retry)
        payload = _payload(entry)
        before = _loads(entry["sent_info"])
        counters = self.device.shift_counters()
        key = "cash_in" if kind == "cash_in" else "cash_out"
        if (
            before is not None
            and shift_counters.cash_total(counters, key) - shift_counters.cash_total(before, key)
            >= payload["amount"]
        ):
            self._record(entry, {"counters": counters, "settled": True})
            return self.journal.get(entry["uuid"])
        return self._retry(entry, retry)

    def _retry(self, entry, retry):
        self.journal.back_to_journaled(entry["uuid"])
        if not retry:
            raise errors.TransportError(
                "the link to the KKT was lost; the operation did not go through, post it again",
                uuid=entry["uuid"],
            )
        return self._execute(self.journal.get(entry["uuid"]))

    # -- execution ------------------------------------------------------------------------
    def _execute(self, entry, prepared=False):
        """Run a ``journaled`` entry on the KKT and record the outcome.
        ``prepared``: the entry was journaled straight into ``sent`` by ``_run``."""
        kind = entry["kind"]
        doc = ffd.from_dict(_payload(entry))
        with self._device_lock:
            if prepared:
                pass
            elif kind in FISCAL_KINDS:
                fn = self._fn_brief()
                if fn.open_document:
                    self.device.cancel_open_document()
                self.journal.mark_sent(entry["uuid"], fn.fn_serial, fn.last_fd_number + 1, fn.shift_number)
            else:
                before = self.device.shift_counters() if kind in ("cash_in", "cash_out") else None
                self.journal.mark_sent(entry["uuid"], None, None, None, info=before)
            self._point("after_sent")
            try:
                if kind in ("sale", "refund", "correction"):
                    result = self.device.fiscalise(doc)
                    if not result.qr:
                        result.qr = ffd.qr_text(result, doc.total, doc.operation)
                elif kind == "open_shift":
                    result = self.device.open_shift(doc.cashier, doc.cashier_inn)
                elif kind == "close_shift":
                    result = self.device.close_shift(doc.cashier, doc.cashier_inn)
                elif kind == "cash_in":
                    result = {"counters": self.device.cash_in(doc.amount)}
                elif kind == "cash_out":
                    result = {"counters": self.device.cash_out(doc.amount)}
                else:
                    result = {"counters": self.device.x_report()}
            except errors.TransportError:
                # the outcome is unknown: the entry stays `sent`; settle it now if the
                # link is back (never retried here: one attempt per request)
                return self._settle_entry(self.journal.get(entry["uuid"]), retry=False)
            except (errors.DeviceError, errors.DocumentInvalid) as exc:
                # DocumentInvalid: the driver could not encode what the FFD rules let
                # through (e.g. a marking code typed in Cyrillic); nothing was fiscalised,
                # so the entry must not stay `sent` for the settle to guess at
                self.journal.mark_failed(entry["uuid"], exc.to_dict())
                raise
            self._point("after_device")
            self._record(entry, result)
        self._wake.set()
        return self.journal.get(entry["uuid"])

    def _fn_brief(self):
        """FN serial, last FD number and open document: a one-command read when
        the driver offers one (Shtrih: FF01 alone), else the full FN status."""
        brief = getattr(self.device, "fn_brief", None)
        return brief() if brief is not None else self.device.fn_status()

    def _record(self, entry, result):
        if isinstance(result, FiscalResult):
            fiscal = result.to_dict()
            response = {"uuid": entry["uuid"], "state": "fiscalised", "fiscal": fiscal}
        else:
            fiscal = result
            response = {"uuid": entry["uuid"], "state": "fiscalised", **result}
        self.journal.mark_fiscalised(entry["uuid"], fiscal, response)

    def _check_grant(self, action, grant, uuid):
        """The claims of the store manager's grant for ``action`` on operation ``uuid``,
        or None when grants are off (an in-process caller).  A nonce serves one
        operation: the same grant with another uuid is refused."""
        if not self.config["manager_grants"]:
            return None
        claims = grants.verify(
            grant, self.config["grant_public_key"], self.config["till_code"], action, now=self.clock()
        )
        if not self.journal.use_grant(claims["nonce"], uuid, action, claims.get("user"), claims["exp"]):
            raise grants.GrantRefused(
                "this manager grant was already used for another operation", action=action, reason="replayed"
            )
        return claims

    @staticmethod
    def _manager_record(claims, reason=None):
        """What the journal (and central's audit) keeps of the grant an operation used."""
        if not claims:
            return None
        out = {
            "action": claims["act"],
            "user": claims.get("user", ""),
            "uid": claims.get("uid", 0),
            "nonce": claims["nonce"],
        }
        if reason:
            out["reason"] = reason
        return out

    def _run(self, uuid, kind, doc, pos_reference="", original_uuid=None, need_clock=False, manager=None):
        """Journal and execute one operation (or replay its stored answer).  ``manager``:
        the grant the operation was authorised with, journaled with its payload."""
        payload_dict = ffd.to_dict(doc)
        if manager:
            payload_dict["manager"] = manager
        done = self.journal.get(uuid)
        if done and done["state"] in ("fiscalised", "delivered", "archived") and done["kind"] == kind:
            return _loads(done["response"])  # a replay needs neither the till nor the KKT
        # The till's owner lock first, for the whole decision: another process of this
        # till may be journaling or fiscalising the same uuid right now.
        with self._device_lock, self._uuid_lock(uuid):
            done = self.journal.get(uuid)
            if done and done["state"] in ("fiscalised", "delivered", "archived") and done["kind"] == kind:
                return _loads(done["response"])
            if need_clock:
                self._require_clock()
            if done is None and kind in FISCAL_KINDS:
                # Fast path of a new fiscal document: read the FN, journal the
                # operation straight into `sent` with the FD number it will get
                # (one commit), and keep the device until the document is closed.
                with self._device_lock:
                    self.journal.check_writable()
                    fn = self._fn_brief()
                    self._point("before_journal")
                    entry, created = self.journal.insert(
                        uuid,
                        kind,
                        payload_dict,
                        pos_reference,
                        original_uuid,
                        sent=(fn.fn_serial, fn.last_fd_number + 1, fn.shift_number),
                    )
                    if created:
                        self._point("after_journal")
                        if fn.open_document:
                            # left over by something else; cancelling it uses no FD number
                            self.device.cancel_open_document()
                        entry = self._execute(entry, prepared=True)
                        return self._answer(entry)
            else:
                self._point("before_journal")
                entry, created = self.journal.insert(uuid, kind, payload_dict, pos_reference, original_uuid)
            if not created:
                if entry["kind"] != kind:
                    raise errors.Conflict(
                        f"uuid {uuid} was already used for a {entry['kind']}, not a {kind}", uuid=uuid
                    )
                state = entry["state"]
                if state == "failed":
                    self.journal.retry_failed(uuid, payload_dict)
                elif state == "sent":
                    with self._device_lock:
                        entry = self._settle_entry(entry)
                    if entry["state"] == "failed":
                        raise _error_of(entry)
            self._point("after_journal")
            entry = self.journal.get(uuid)
            if entry["state"] == "journaled":
                entry = self._execute(entry)
            return self._answer(entry)

    @staticmethod
    def _answer(entry):
        if entry["state"] == "failed":
            raise _error_of(entry)
        if entry["state"] == "sent":
            raise errors.TransportError(
                "the KKT did not answer; the operation is kept and will be settled", uuid=entry["uuid"]
            )
        return _loads(entry["response"])

    # -- clock -------------------------------------------------------------------------------
    def check_clock(self, force=False):
        """Compare the till clock with the KKT's.  Returns the clock block of the status."""
        now = self.clock()
        if (
            not force
            and self._clock_state
            and self._clock_checked_at is not None
            and 0 <= now - self._clock_checked_at < self.config["clock_check_interval"]
        ):
            return self._clock_state
        with self._device_lock:
            st = self.device.status()
        kkt = till_time.local_naive(st.get("kkt_time"))  # both drivers: FiscalDevice.status()
        till = datetime.datetime.fromtimestamp(now)
        if kkt is None:
            state = {
                "till": till.isoformat(timespec="seconds"),
                "kkt": None,
                "skew_seconds": None,
                "level": "warn",
            }
        else:
            skew = round((till - kkt).total_seconds())
            level = (
                "block"
                if abs(skew) > self.config["clock_block_seconds"]
                else "warn"
                if abs(skew) > self.config["clock_warn_seconds"]
                else "ok"
            )
            state = {
                "till": till.isoformat(timespec="seconds"),
                "kkt": kkt.isoformat(timespec="seconds"),
                "skew_seconds": skew,
                "level": level,
            }
        self._clock_state, self._clock_checked_at = state, now
        return state

    def _require_clock(self):
        state = self.check_clock()
        if state["level"] == "block":
            raise errors.ClockMismatch(
                f"the KKT clock ({state['kkt']}) differs from the till clock ({state['till']}) by "
                f"{abs(state['skew_seconds'])} s, more than the legal 5 minutes: set the clocks right "
                f"before selling",
                skew_seconds=state["skew_seconds"],
            )

    # -- public operations (the till HTTP API) -------------------------------------------------
    def sale(self, payload, grant=None):
        """POST receipt: a sale or a refund (``operation``).  ``grant``: a store
        manager's ``refund_override`` grant (only used by a refund whose original
        cannot be verified)."""
        if isinstance(payload, dict) and payload.get("operation") == "refund":
            return self.refund(payload, grant=grant)
        doc = ffd.build_receipt(payload)
        return self._run(payload["uuid"], "sale", doc, _ref(payload), need_clock=True)

    def refund(self, payload, grant=None):
        if not isinstance(payload, dict):
            raise errors.RequestInvalid("the request body must be a JSON object")
        ffd.check_uuid(payload.get("uuid"))
        replay = self.journal.get(payload["uuid"])
        if replay and replay["state"] in ("fiscalised", "delivered", "archived"):
            return _loads(replay["response"])
        refund_of = payload.get("refund_of")
        if not isinstance(refund_of, dict) or not refund_of.get("uuid"):
            raise errors.RequestInvalid(
                "a refund must carry refund_of with the uuid of the original sale", field="refund_of"
            )
        orig_uuid = ffd.check_uuid(refund_of["uuid"], "refund_of.uuid")
        # refunds of one sale one at a time, in every process of this till: two at once
        # could each pass the means check
        with self._uuid_lock(f"refunds-of:{orig_uuid}"), self._device_lock:
            return self._refund_locked(payload, refund_of, orig_uuid, grant)

    def _refund_locked(self, payload, refund_of, orig_uuid, grant=None):
        basis = self._refund_basis(payload["uuid"], refund_of, orig_uuid, grant=grant)
        if refund_of.get("fiscal_sign") in (None, "") and basis["fiscal_sign"]:
            payload = dict(payload, refund_of=dict(refund_of, fiscal_sign=basis["fiscal_sign"]))
        doc = ffd.build_receipt(
            payload,
            original_payments=basis["payments"],
            already_refunded=basis["already"],
            original_items=basis["items"],
        )
        return self._run(
            payload["uuid"],
            "refund",
            doc,
            _ref(payload),
            original_uuid=orig_uuid,
            need_clock=True,
            manager=basis["manager"],
        )

    def _refund_basis(self, uuid, refund_of, orig_uuid, grant=None, manager_claims=None):
        """What a refund (or refund correction) ``uuid`` of sale ``orig_uuid`` may pay back:
        ``{"payments", "already", "fiscal_sign", "manager"}``.

        The original comes from this till's journal, else from central's fiscal
        document (never from the client).  When neither can vouch for it, only a
        store manager's override passes: a ``refund_override`` grant (``grant``) or
        the correction grant already checked (``manager_claims``), with
        ``refund_of.override_reason`` and the original's ``refund_of.payments``."""
        original = self.journal.get(orig_uuid)
        original_items = None  # the sale's items when this till journaled it (VAT rates kept)
        fiscal_sign = None
        central_refunds = []
        if original is not None:
            if original["kind"] != "sale":
                raise errors.RequestInvalid(
                    f"refund_of {orig_uuid} is a {original['kind']}, not a sale", field="refund_of.uuid"
                )
            if original["state"] not in ("fiscalised", "delivered", "archived"):
                raise errors.Conflict(
                    f"the original sale {orig_uuid} is not fiscalised "
                    f"({original['state']}); it cannot be refunded",
                    uuid=orig_uuid,
                )
            if not original["ofd_confirmed"] and self._sync_ofd_from_device():
                original = self.journal.get(orig_uuid)
            if not original["ofd_confirmed"] and self.refund_requires_ofd():
                raise errors.Conflict(
                    f"the original sale {orig_uuid} (FD {original['fd_number']}) is not yet confirmed by the "
                    f"OFD; refund it once the confirmation arrives",
                    uuid=orig_uuid,
                )
            original_doc = ffd.from_dict(_payload(original))
            original_payments, original_items = original_doc.payments, original_doc.items
            fiscal_sign = (_loads(original["fiscal"]) or {}).get("fiscal_sign")
            manager = None
        else:
            info, why = self._central_original(orig_uuid)
            if info is not None:
                original_payments = info["payments"]
                central_refunds = info["refunds"]
                fiscal_sign = info["fiscal_sign"]
                manager = None
            else:
                original_payments, manager = self._refund_override(
                    uuid, refund_of, orig_uuid, why, grant, manager_claims
                )
        already = ffd.Payments()
        counted = set()
        for r in self.journal.refunds_of(orig_uuid):
            if r["uuid"] != uuid and r["state"] in ("sent", "fiscalised", "delivered", "archived"):
                counted.add(r["uuid"])
                _add_payments(already, ffd.from_dict(_payload(r)).payments)
        for ref_uuid, paid in central_refunds:
            if ref_uuid != uuid and ref_uuid not in counted:
                _add_payments(already, paid)
        return {
            "payments": original_payments,
            "already": already,
            "fiscal_sign": fiscal_sign,
            "manager": manager,
            "items": original_items,
        }

    def _central_original(self, orig_uuid):
        """Central's word on a sale this till does not know: ``(info, None)`` or
        ``(None, why it cannot be refunded on central's word)``."""
        if self.central is None:
            return None, "this till has no central server to check it with"
        try:
            reply = self.central.refundable(orig_uuid)
        except errors.TransportError as exc:
            return None, f"the central server cannot be reached to check it ({exc.message})"
        except errors.FiscalError as exc:
            if exc.details.get("status") == 404:
                return None, "the central server has no fiscal document of this company with that uuid"
            return None, f"the central server refused it: {exc.message}"
        try:
            if reply.get("kind") != "sale":
                return None, f"it is a {reply.get('kind')}, not a sale"
            if self.refund_requires_ofd():
                if reply.get("ofd_confirmed") is not True:
                    return None, "the OFD has not confirmed it yet"
            elif not reply.get("fd_number") or reply.get("fiscal_sign") in (None, ""):
                return None, "no fiscal drive is known to have fiscalised it"
            payments = _payments_of(reply.get("payments"))
            refunds = [(r["uuid"], _payments_of(r["payments"])) for r in reply.get("refunds") or []]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None, "the central server's answer about it is malformed"
        sign = reply.get("fiscal_sign")
        return {
            "payments": payments,
            "refunds": refunds,
            "fiscal_sign": int(sign) if isinstance(sign, (int, str)) and str(sign).isdigit() else None,
        }, None

    def _refund_override(self, uuid, refund_of, orig_uuid, why, grant, manager_claims):
        """A store manager vouches for an original nobody here can verify (audited)."""
        refused = errors.Conflict(
            f"the original sale {orig_uuid} is unknown to this till and cannot be verified: {why}. "
            f"Nothing was fiscalised; a store manager may override this refund",
            uuid=orig_uuid,
            reason="original_unverified",
        )
        reason = refund_of.get("override_reason")
        if reason is None:  # no override asked for
            raise refused
        claims = manager_claims
        if claims is None:
            if not grant:
                raise refused
            claims = self._check_grant("refund_override", grant, uuid)
            if claims is None:  # grants are off: nothing can vouch for the original
                raise refused
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 256:
            raise errors.RequestInvalid(
                "a manager's override names its reason in refund_of.override_reason (1-256 characters)",
                field="refund_of.override_reason",
            )
        split = refund_of.get("payments")
        if not isinstance(split, list) or not split:
            raise errors.RequestInvalid(
                f"the original sale {orig_uuid} is unknown to this till: an overridden refund needs "
                f"refund_of.payments (the original's payment split)",
                field="refund_of.payments",
            )
        manager = self._manager_record(claims, reason.strip())
        manager["override_of"] = orig_uuid
        return ffd._build_payments({"payments": split}), manager

    def correction(self, payload, grant=None):
        """A correction receipt (FD 31): a store manager's act.  One with operation
        ``refund`` names the sale it pays back (``refund_of.uuid``), checked like a
        refund; the correction grant with ``refund_of.override_reason`` overrides."""
        if not isinstance(payload, dict):
            raise errors.RequestInvalid("the request body must be a JSON object")
        uuid = ffd.check_uuid(payload.get("uuid"))
        claims = self._check_grant("correction", grant, uuid)
        if payload.get("operation") != "refund":
            doc = ffd.build_correction(payload)
            return self._run(
                uuid, "correction", doc, _ref(payload), need_clock=True, manager=self._manager_record(claims)
            )
        refund_of = payload.get("refund_of")
        if not isinstance(refund_of, dict) or not refund_of.get("uuid"):
            raise errors.RequestInvalid(
                "a refund correction must carry refund_of with the uuid of the sale it pays back",
                field="refund_of",
            )
        orig_uuid = ffd.check_uuid(refund_of["uuid"], "refund_of.uuid")
        doc = ffd.build_correction(dict(payload, refund_of=None))
        with self._uuid_lock(f"refunds-of:{orig_uuid}"), self._device_lock:
            done = self.journal.get(uuid)
            if done and done["state"] in ("fiscalised", "delivered", "archived"):
                return _loads(done["response"])
            basis = self._refund_basis(uuid, refund_of, orig_uuid, manager_claims=claims)
            doc = dataclasses.replace(doc, original_uuid=orig_uuid)
            ffd.check_refund_means(doc.payments, basis["payments"], basis["already"])
            if basis["items"]:
                ffd.check_refund_vat(doc.items, basis["items"])
            return self._run(
                uuid,
                "correction",
                doc,
                _ref(payload),
                original_uuid=orig_uuid,
                need_clock=True,
                manager=basis["manager"] or self._manager_record(claims),
            )

    def cash_in(self, payload):
        doc = ffd.build_cash(payload, "cash_in")
        return self._run(payload["uuid"], "cash_in", doc)

    def cash_out(self, payload, grant=None):
        """Cash taken out of the drawer: a store manager's act (grant ``cash_out``)."""
        uuid = _uuid_of(payload)
        claims = self._check_grant("cash_out", grant, uuid)
        doc = ffd.build_cash(payload, "cash_out")
        return self._run(uuid, "cash_out", doc, manager=self._manager_record(claims))

    def x_report(self, payload):
        doc = ffd.build_x_report(payload)
        return self._run(payload["uuid"], "x_report", doc)

    def open_shift(self, payload):
        doc = ffd.build_shift(payload)
        return self._run(payload["uuid"], "open_shift", doc, need_clock=True)

    def close_shift(self, payload, grant=None):
        """The Z report: a store manager's act (grant ``close_shift``)."""
        uuid = _uuid_of(payload)
        claims = self._check_grant("close_shift", grant, uuid)
        doc = ffd.build_shift(payload, close=True)
        return self._run(uuid, "close_shift", doc, manager=self._manager_record(claims))

    def cancel_open(self):
        with self._device_lock:
            return {"cancelled": bool(self.device.cancel_open_document())}

    def counters(self):
        with self._device_lock:
            return self.device.shift_counters()

    def journal_query(self, state=None, since_hlc=None, limit=100):
        if state and state not in (
            "journaled",
            "sent",
            "fiscalised",
            "delivered",
            "archived",
            "failed",
            "dead_letter",
        ):
            raise errors.RequestInvalid(f"unknown journal state {state!r}", field="state")
        try:
            since = int(since_hlc or 0)
            limit = int(limit or 100)
        except (TypeError, ValueError):
            raise errors.RequestInvalid("since_hlc and limit must be integers") from None
        rows = self.journal.query(state=state, since_hlc=since, limit=limit)
        return {"entries": [self.journal.to_entry(r) for r in rows]}

    # -- status -------------------------------------------------------------------------------
    def status(self):
        """The till HTTP API's ``GET status``: the till's figures, its ``level`` and ``reasons``
        (one rule: ru54fz/till_health.py, codes translated by the POS) and the same
        reasons as English ``messages`` (kept for older clients)."""
        facts = {}
        out = {
            "till_code": self.config["till_code"],
            "device": None,
            "fn": None,
            "shift": {"open": False, "number": None, "opened_at": None, "expires_at": None},
            "clock": None,
        }
        now = datetime.datetime.fromtimestamp(self.clock())
        try:
            with self._device_lock:
                out["device"] = self.device.status()
                fn = self.device.fn_status()
            out["fn"] = fn.to_dict()
            out["clock"] = self.check_clock(force=True)
        except errors.FiscalError as exc:
            facts["device_error"] = {"code": exc.code, "message": exc.message}
            fn = None
        device = out["device"] or {}
        if "paper_present" in device:  # FiscalDevice.status(): both drivers
            facts["paper_present"] = bool(device["paper_present"])
        facts["cover_open"] = bool(device.get("cover_open"))
        if fn is not None:
            opened = till_time.local_naive(fn.shift_opened_at)
            expires = opened + datetime.timedelta(hours=self.config["shift_limit_hours"]) if opened else None
            out["shift"] = {
                "open": fn.shift_open,
                "number": fn.shift_number,
                "opened_at": fn.shift_opened_at,
                "expires_at": expires.isoformat(timespec="seconds") if expires else None,
            }
            facts["shift_open"] = bool(fn.shift_open)
            if fn.shift_open and opened:
                facts["shift_age_hours"] = (now - opened).total_seconds() / 3600
            facts["fn_memory_used_pct"] = fn.fn_memory_used_pct
            valid = till_time.local_date(fn.fn_valid_until)
            if valid:
                facts["fn_days_left"] = till_health.days_left(valid, now.date())
            clk = out["clock"] or {}
            facts["clock_checked"] = True
            facts["clock_skew_seconds"] = clk.get("skew_seconds")
        counts = self.journal.counts()
        fill = self.journal.fill()
        out["journal"] = {
            "entries": sum(counts.values()),
            "unfiscalised": counts["journaled"] + counts["sent"] + counts["failed"],
            "undelivered": counts["fiscalised"],
            "failed": counts["failed"],
            "fill_pct": fill["fill_pct"],
            "disk_pct": fill["disk_pct"],
            "db_pct": fill["db_pct"],
        }
        facts["journal_fill_pct"] = fill["fill_pct"]
        backlog, oldest_ts = self.journal.ofd_backlog()
        oldest = datetime.datetime.fromtimestamp(oldest_ts) if oldest_ts else None
        if fn is not None and fn.oldest_unconfirmed_at:
            fn_oldest = till_time.local_naive(fn.oldest_unconfirmed_at)
            backlog = max(backlog, fn.unconfirmed_count)
            if fn_oldest and (oldest is None or fn_oldest < oldest):
                oldest = fn_oldest
        age_days = round((now - oldest).total_seconds() / 86400, 2) if oldest else 0
        out["ofd"] = {
            "backlog": backlog,
            "oldest_unconfirmed_at": oldest.isoformat(timespec="seconds") if oldest else None,
            "oldest_age_days": age_days,
        }
        facts["ofd_oldest_age_days"] = age_days
        facts["failed_count"] = counts["failed"]
        out["journal"]["dead_letter"] = counts["dead_letter"]
        facts["set_aside_count"] = counts["dead_letter"]
        if counts["dead_letter"]:
            aside = self.journal.in_state("dead_letter", limit=10)
            out["journal"]["set_aside"] = [
                {
                    "uuid": r["uuid"],
                    "kind": r["kind"],
                    "fd_number": r["fd_number"],
                    "reason": (_loads(r["error"]) or {}).get("message"),
                }
                for r in aside
            ]
        if self.central:
            out["central"] = dict(self.push_state)
        health = till_health.evaluate(facts, self._health_overrides())
        out["level"] = health["level"]
        out["reasons"] = health["reasons"]
        out["messages"] = till_health.messages(health)
        return out

    def _health_overrides(self):
        """This till's configuration as overrides of the one health table."""
        cfg = self.config
        return {
            "clock_skew": {"yellow": cfg["clock_warn_seconds"], "red": cfg["clock_block_seconds"]},
            "ofd_blocked": {"red": cfg["ofd_limit_days"]},
            "shift_age": {
                "red": cfg["shift_limit_hours"],
                "yellow": cfg["shift_limit_hours"] * till_health.SHIFT_WARN_SHARE,
            },
        }

    # -- push to central (the till push format) -----------------------------------------------
    def push_to_central(self):
        """Deliver undelivered entries in HLC order and apply returned tickets.
        Returns {"pushed", "accepted", "tickets"}; raises TransportError when central is down."""
        if not self.central:
            raise errors.RequestInvalid("this till has no central server configured")
        totals = {"pushed": 0, "accepted": 0, "tickets": 0, "rounds": 0, "awaiting_ticket": False}
        after = 0
        self._retry_dead_letters()
        self._sync_ofd_from_device()
        while totals["rounds"] < self.config["push_max_rounds"]:
            totals["rounds"] += 1
            self._point("before_delivery")
            batch = self.journal.in_state("fiscalised", limit=self.config["push_batch"], after_hlc=after)
            extra = self._pending_ofd_entry(batch)
            entries = [self.journal.to_entry(r) for r in batch] + extra
            now = time.monotonic()
            status_due = (
                self._status_pushed_at is None
                or now - self._status_pushed_at >= self.config["push_status_interval"]
            )
            if totals["rounds"] > 1 and not entries and not status_due:
                # a further round only to fetch nothing: the next message's ticket (if the
                # FN handed one out above) comes with the next poll
                break
            status = None
            if status_due:
                try:
                    status = self.status()
                except Exception:  # noqa: BLE001 - the push must not depend on the status
                    _logger.exception("till status for central failed")
                self._status_pushed_at = now
            written = list(self._tickets_written)
            reply = self._push_setting_aside(entries, status, written)
            # central has them (or, had the push been refused, re-sends those tickets
            # until the next status report: harmless, the journal skips them)
            del self._tickets_written[: len(written)]
            settings = reply.get("settings") or {}
            if isinstance(settings.get("refund_requires_ofd_confirmation"), bool):
                self.set_refund_requires_ofd(settings["refund_requires_ofd_confirmation"])
            sent = {e["uuid"] for e in entries}
            accepted = [u for u in reply["accepted"] if u in sent]
            self.journal.mark_delivered(accepted)
            applied = self._apply_tickets(reply["tickets"])
            totals["pushed"] += len(entries)
            totals["accepted"] += len(accepted)
            totals["tickets"] += applied
            totals["awaiting_ticket"] = not applied and self._ofd_outstanding is not None
            if batch and len(batch) == self.config["push_batch"] and accepted:
                after = batch[-1]["hlc"]
                continue
            if applied:
                # the FN hands out its next unconfirmed message only after this ticket
                continue
            break
        self.push_state.update(last_ok=self.clock(), last_error=None)
        return totals

    def _sync_ofd_from_device(self):
        """A register that sends its documents to the OFD itself (ATOL: the driver's own
        channel) has no message for the till to carry and takes no ticket from it: its FN's
        OFD status tells which documents are confirmed, every FD below the first unconfirmed
        one.  Returns the number of journal entries newly confirmed."""
        if not getattr(self.device, "delivers_to_ofd_itself", False):
            return 0
        try:
            with self._device_lock:
                fn = self.device.fn_status()
        except errors.FiscalError as exc:
            _logger.info("OFD status not read from the KKT: %s", exc)
            return 0
        limit = fn.first_unconfirmed_fd if fn.unconfirmed_count else fn.last_fd_number + 1
        return self.journal.set_ofd_confirmed_below(fn.fn_serial, limit) if limit else 0

    def _pending_ofd_entry(self, batch):
        """The FN hands out its oldest unconfirmed OFD message; attach it to its entry.

        An entry central already has goes again, with its message, only when its ticket
        has not come back within ``ofd_resend_seconds`` (central stores the message and
        retries the OFD itself; a re-send on every ticket poll cost central a full
        ingestion per poll).  Sets ``_ofd_outstanding`` to the FD whose ticket the till
        waits for, or None."""
        self._ofd_outstanding = None
        try:
            with self._device_lock:
                msg = self.device.read_ofd_message()
        except errors.FiscalError as exc:
            _logger.info("no OFD message read from the KKT: %s", exc)
            return []
        if not msg:
            self._ofd_carried.clear()
            return []
        fd_number, data = msg
        b64 = base64.b64encode(data).decode()
        now = time.monotonic()
        # the FN gives out the oldest unconfirmed message: every older FD is confirmed
        for fd in [fd for fd in self._ofd_carried if fd < fd_number]:
            del self._ofd_carried[fd]
        for r in batch:
            if r["fd_number"] == fd_number:
                r["ofd_message"] = b64
                self.journal.attach_ofd_message(fd_number, b64)
                self._ofd_outstanding = fd_number
                self._ofd_carried[fd_number] = now
                return []
        row = self.journal.by_fd_number(fd_number)
        if row is None or row["ofd_confirmed"] or row["state"] == "dead_letter":
            return []  # a set-aside entry goes only with its own retries (_retry_dead_letters)
        if row["ofd_message"] is None:
            self.journal._write("UPDATE entries SET ofd_message=? WHERE uuid=?", (b64, row["uuid"]))
        row["ofd_message"] = b64
        if row["state"] == "fiscalised":
            return []  # goes in a batch of its own turn, its message attached then
        self._ofd_outstanding = fd_number
        carried = self._ofd_carried.get(fd_number)
        if carried is not None and now - carried < self.config["ofd_resend_seconds"]:
            return []
        self._ofd_carried[fd_number] = now
        return [self.journal.to_entry(row)]

    # -- entries central refuses for good (issue 12: one poisoned entry must not block the queue)
    #: statuses that may be about one entry of the batch (not about the till: 401, 403)
    ENTRY_REFUSALS = (400, 409, 413, 422)

    def _push_setting_aside(self, entries, status, tickets_written=None):
        """``central.push`` that never lets one entry block the others.  When central
        refuses the batch because of one entry (its error names the uuid, or halving the
        batch finds it), that entry is set aside (journal state ``dead_letter``, with
        central's reason) and the rest are pushed.  A refusal that is about the till
        itself (401, a bad status report...) is raised unchanged: nothing is set aside."""
        try:
            reply = self.central.push(entries, status=status, tickets_written=tickets_written)
        except CentralRefused as exc:
            named = exc.details.get("entry_uuid")
            code = exc.details.get("status")
            if not entries or code == 401 or (not named and code not in self.ENTRY_REFUSALS):
                raise
            by_uuid = {e["uuid"]: e for e in entries}
            if named in by_uuid:
                self._set_aside(by_uuid[named], exc)
                return self._push_setting_aside([e for e in entries if e["uuid"] != named], status)
            if named or len(entries) == 1:
                if not named:
                    # a lone entry refused without a name: the entry is the culprit only if
                    # the same push without it goes through
                    reply = self.central.push([], status=status)
                    self._set_aside(entries[0], exc)
                    return reply
                raise
            half = len(entries) // 2
            first = self._push_setting_aside(entries[:half], status)
            second = self._push_setting_aside(entries[half:], None)
            return {
                **first,
                **second,
                "accepted": first["accepted"] + second["accepted"],
                "tickets": first["tickets"] + [t for t in second["tickets"] if t not in first["tickets"]],
            }
        # central took the push but names entries it will never store (a uuid of another
        # till...): they are set aside as well, or they would be pushed again every round
        sent = {e["uuid"]: e for e in entries}
        for item in reply.get("refused") or ():
            entry = sent.get(item.get("uuid"))
            if entry is not None and item.get("uuid") not in reply["accepted"]:
                self._set_aside(
                    entry,
                    CentralRefused(
                        f"central refused the entry: {item.get('code')}: {item.get('message')}",
                        status=200,
                        error_code=item.get("code"),
                        entry_uuid=entry["uuid"],
                    ),
                )
        return reply

    def _set_aside(self, entry, exc):
        error = {
            "code": "central_refused",
            "message": exc.message,
            "http_status": exc.details.get("status"),
            "central_code": exc.details.get("error_code"),
        }
        _logger.warning(
            "central refused journal entry %s (%s) for good; set aside, the queue goes on: %s",
            entry["uuid"],
            entry["kind"],
            exc.message,
        )
        self.journal.set_aside(entry["uuid"], error)
        self._status_pushed_at = None  # central hears of it with the next push, not in a minute

    def _retry_dead_letters(self):
        """Offer a few set-aside entries to central again, each alone; accepted ones are
        delivered, refused ones wait for the next round (transport errors propagate)."""
        due = self.journal.dead_letters_due(
            self.config["dead_letter_retry_seconds"], self.config["dead_letter_retry_batch"]
        )
        for row in due:
            entry = self.journal.to_entry(row)
            try:
                reply = self.central.push([entry])
            except CentralRefused as exc:
                if exc.details.get("status") == 401:
                    raise
                self._set_aside(entry, exc)
                continue
            if entry["uuid"] in reply["accepted"]:
                self.journal.mark_delivered([entry["uuid"]])
                _logger.info("set-aside journal entry %s accepted by central on retry", entry["uuid"])
            else:  # still refused (listed in the reply): wait for the next retry
                self.journal.set_aside(entry["uuid"], _loads(row["error"]) or {})

    def _apply_tickets(self, tickets):
        n = 0
        for t in tickets:
            try:
                raw = base64.b64decode(t.get("ticket") or "", validate=True)
                fd = int(t.get("fd_number"))
            except (ValueError, TypeError):
                _logger.warning("malformed OFD ticket from central: %r", t)
                continue
            try:
                with self._device_lock:
                    # read under the lock: another process of this till may have written it
                    row = self.journal.get(t.get("uuid")) if t.get("uuid") else self.journal.by_fd_number(fd)
                    if row is not None and row["ofd_confirmed"]:
                        continue
                    self.device.write_ofd_ticket(raw)
            except errors.FiscalError as exc:
                _logger.warning("the KKT refused the OFD ticket for FD %s: %s", fd, exc)
                continue
            self.journal.set_ofd_confirmed(fd, t.get("ticket"), uuid=row["uuid"] if row else None)
            if t.get("uuid"):
                self._tickets_written.append(t["uuid"])
            n += 1
        return n

    def _push_loop(self):
        backoff = 0.0
        ticket_wait = 0.0
        compacted_at = time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() - compacted_at >= self.config["compact_interval"]:
                compacted_at = time.monotonic()
                try:
                    removed = self.compact()
                    if removed:
                        _logger.info("journal compaction removed %s archived entries", removed)
                except errors.FiscalError as exc:
                    _logger.warning("journal compaction failed: %s", exc)
            try:
                out = self.push_to_central()
                backoff = 0.0
                ticket_wait = next_ticket_wait(
                    ticket_wait, out, self.config["ofd_ticket_poll"], self.config["push_interval"]
                )
                wait = ticket_wait or self.config["push_interval"]
            except errors.FiscalError as exc:
                backoff = min(max(backoff * 2, 1.0), self.config["push_backoff_max"])
                wait = backoff
                self.push_state.update(last_error=exc.message)
            except Exception as exc:  # noqa: BLE001 - the pusher must survive anything
                _logger.exception("push to central failed")
                backoff = min(max(backoff * 2, 1.0), self.config["push_backoff_max"])
                wait = backoff
                self.push_state.update(last_error=str(exc))
            self.push_state["backoff"] = backoff
            self._wake.wait(jittered(wait, self.config["push_jitter"], self._random.random()))
            self._wake.clear()

    def compact(self):
        return self.journal.compact(self.config["compact_after_days"] * 86400)


# -- helpers ------------------------------------------------------------------------------
def jittered(wait, spread, unit):
    """``wait`` spread by up to ``spread`` (a fraction) either way; ``unit`` in [0, 1) picks
    where (``random.random()``)."""
    return max(0.0, wait * (1.0 + spread * (2.0 * unit - 1.0)))


def next_ticket_wait(previous, round_out, poll, interval):
    """Seconds until the push loop asks central for an OFD ticket again; 0: no ticket is
    awaited (the loop waits ``interval``).

    The ticket of the message just carried comes in a later reply: ask after ``poll``
    seconds, doubling while it does not come (central or the OFD is slow, or down), up to
    ``interval``.  A round that brought a ticket starts again at ``poll``: the FN then hands
    out its next message, and a backlog (after an OFD outage, one message per ticket) drains
    at one poll per document, not at the doubled wait of the previous one."""
    if not round_out.get("awaiting_ticket"):
        return 0.0
    if round_out.get("tickets") or not previous:
        return min(poll, interval)
    return min(previous * 2, interval)


def _loads(text):
    import json

    return json.loads(text) if text else None


def _payload(entry):
    return _loads(entry["payload"])


def _error_of(entry):
    err = _loads(entry["error"]) or {}
    code = err.get("code", "device_error")
    for cls in _all_errors(errors.FiscalError):
        if cls.code == code:
            exc = cls(err.get("message"))
            break
    else:
        exc = errors.DeviceError(err.get("message") or "the KKT refused the operation")
    exc.details.update({k: v for k, v in err.items() if k not in ("code", "message", "retryable")})
    return exc


def _all_errors(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_errors(sub)


def _uuid_of(payload):
    if not isinstance(payload, dict):
        raise errors.RequestInvalid("the request body must be a JSON object")
    return ffd.check_uuid(payload.get("uuid"))


def _add_payments(total, paid):
    for name in ffd.PAYMENT_TAGS:
        setattr(total, name, getattr(total, name) + getattr(paid, name))


def _payments_of(data):
    """A ``Payments`` from central's ``{"cash": kopecks, ...}`` (ints >= 0 only)."""
    if not isinstance(data, dict):
        raise ValueError("payments must be an object")
    values = {}
    for name in ffd.PAYMENT_TAGS:
        value = data.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"payments.{name} must be a non-negative integer")
        values[name] = value
    return ffd.Payments(**values)


def _ref(payload):
    ref = payload.get("pos_reference") or ""
    return ref[:64] if isinstance(ref, str) else ""
