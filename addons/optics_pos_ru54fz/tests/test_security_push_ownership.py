"""Each fiscal document belongs to the till that fiscalised it (issue 12, item 5).

The attacker holds till B's central token (or is till B): pushing an entry under a
uuid that central holds for till A, or an FD of till A's FN, is refused (reported
back in ``refused``, logged and audited once) and A's document is left exactly as
it was.  A copy only the POS order sync wrote (browser-writable values) is replaced
by the till's push.  The cash trail and the order links never reach across stores
by uuid."""

import base64
import uuid as uuidlib

from odoo.tests import tagged

from ..ru54fz.ofd import protocol
from .cash_common import CashSessionCommon
from .security_till_common import SecurityTillCase

FN_A = "9999078900011111"
FN_B = "9999078900022222"


def entry(till_code, fd, fn, uid=None, rub=1000, kind="sale", message=True, message_fn=None):
    kop = rub * 100
    msg = protocol.build_document_message(message_fn or fn, fd) if message else None
    return {
        "uuid": uid or str(uuidlib.uuid4()),
        "hlc": str(10**15 + fd),
        "kind": kind,
        "state": "fiscalised",
        "till_code": till_code,
        "pos_reference": f"Order {fd}",
        "payload": {
            "doc_type": "receipt",
            "operation": 1,
            "total": kop,
            "payments": {"cash": kop, "electronic": 0, "prepayment": 0, "credit": 0, "other": 0},
        },
        "fiscal": {
            "fd_number": fd,
            "fiscal_sign": 2000000000 + fd,
            "fn_serial": fn,
            "shift_number": 1,
            "doc_time": "2026-12-01T10:00:00",
        },
        "ofd_message": base64.b64encode(msg).decode() if msg else None,
    }


@tagged("post_install", "-at_install")
class TestSecurityPushOwnership(SecurityTillCase):
    def push(self, key, entries):
        status, body = self.central("push", {"entries": entries}, key=key)
        self.assertEqual(status, 200, body)
        return body

    def snapshot(self, doc):
        doc.invalidate_recordset()
        return (
            doc.pos_config_id,
            doc.till_code,
            doc.fd_number,
            doc.fiscal_sign,
            doc.fn_serial,
            doc.total,
            doc.payload,
            doc.sudo().ofd_message,
            doc.ofd_state,
            doc.source,
        )

    def test_another_till_cannot_claim_or_overwrite_a_document(self):
        code_a, code_b = self.config_a.ru54fz_till_code, self.config_b.ru54fz_till_code
        genuine = entry(code_a, 21, FN_A)
        self.assertEqual(self.push("A", [genuine])["accepted"], [genuine["uuid"]])
        Doc = self.env["optics.fiscal.document"].sudo()
        doc = Doc.search([("uuid", "=", genuine["uuid"])])
        before = self.snapshot(doc)
        Audit = self.env["optics.fiscal.audit"].sudo()
        audits = Audit.search_count([("action", "=", "push_refused")])
        own = entry(code_b, 7, FN_B)
        attacks = [
            entry(code_b, 8, FN_B, uid=genuine["uuid"], rub=50000),  # A's uuid, B's FN
            entry(code_b, 21, FN_A, rub=50000),  # A's FD under a new uuid
            entry(code_b, 22, FN_A, rub=50000),  # A's FN
            entry(code_b, 9, FN_B, rub=50000, message_fn=FN_A),  # an OFD message of another FN
        ]
        for _round in range(2):  # the till pushes again and again: audited once
            reply = self.push("B", attacks + [own])
            self.assertEqual(reply["accepted"], [own["uuid"]])
            self.assertEqual({r["uuid"] for r in reply["refused"]}, {a["uuid"] for a in attacks})
        codes = {r["uuid"]: r["code"] for r in reply["refused"]}
        self.assertEqual(codes[genuine["uuid"]], "owned_elsewhere")
        self.assertEqual(codes[attacks[1]["uuid"]], "fn_of_another_till")
        self.assertEqual(codes[attacks[3]["uuid"]], "ofd_message_mismatch")
        self.assertEqual(self.snapshot(doc), before, "A's document is unchanged")
        self.assertFalse(Doc.search([("uuid", "in", [a["uuid"] for a in attacks[1:]])]), "nothing stored")
        self.assertEqual(Audit.search_count([("action", "=", "push_refused")]), audits + len(attacks))
        # the genuine owner re-pushing is still accepted (idempotent)
        self.assertEqual(self.push("A", [genuine])["accepted"], [genuine["uuid"]])

    def test_the_tills_push_overrides_what_the_pos_sync_wrote(self):
        code_a = self.config_a.ru54fz_till_code
        Doc = self.env["optics.fiscal.document"].sudo()
        uid = str(uuidlib.uuid4())
        # the POS order sync got there first, with browser-written values
        Doc._upsert(
            [
                {
                    "uuid": uid,
                    "kind": "sale",
                    "company_id": self.config_a.company_id.id,
                    "pos_config_id": self.config_a.id,
                    "till_code": code_a,
                    "fd_number": 999,
                    "fiscal_sign": "1",
                    "fn_serial": "0000000000000000",
                    "total": 1,
                    "payload": None,
                    "ofd_state": "pending",
                }
            ],
            source="pos",
        )
        genuine = entry(code_a, 31, FN_A, uid=uid, rub=3000)
        self.assertEqual(self.push("A", [genuine])["accepted"], [uid])
        doc = Doc.search([("uuid", "=", uid)])
        self.assertEqual(
            (doc.source, doc.fd_number, doc.fn_serial, doc.fiscal_sign, doc.total),
            ("till", 31, FN_A, str(2000000031), 300000),
        )
        self.assertEqual(doc.payload["payments"]["cash"], 300000)
        self.assertTrue(doc.has_ofd_message)
        # a POS-synced copy of another store's point of sale does not let till A take the uuid
        other = str(uuidlib.uuid4())
        Doc._upsert(
            [
                {
                    "uuid": other,
                    "kind": "sale",
                    "company_id": self.config_b.company_id.id,
                    "pos_config_id": self.config_b.id,
                    "till_code": self.config_b.ru54fz_till_code,
                    "total": 1,
                    "ofd_state": "pending",
                }
            ],
            source="pos",
        )
        reply = self.push("A", [entry(code_a, 32, FN_A, uid=other)])
        self.assertEqual(reply["accepted"], [])
        self.assertEqual(Doc.search([("uuid", "=", other)]).pos_config_id, self.config_b)

    # -- the re-sent entry and the written tickets (issue 18: a push with nothing new is cheap)
    def test_a_resent_entry_is_accepted_as_it_is_and_one_with_news_is_still_stored(self):
        code_a = self.config_a.ru54fz_till_code
        Doc = self.env["optics.fiscal.document"].sudo()
        bare = entry(code_a, 41, FN_A, message=False)  # pushed before the FN handed out its message
        self.assertEqual(self.push("A", [bare])["accepted"], [bare["uuid"]])
        doc = Doc.search([("uuid", "=", bare["uuid"])])
        self.assertFalse(doc.has_ofd_message)
        # the same entry again, now carrying the FN's message: central must take the message
        carried = entry(code_a, 41, FN_A, uid=bare["uuid"])
        self.assertEqual(self.push("A", [carried])["accepted"], [bare["uuid"]])
        doc.invalidate_recordset()
        self.assertTrue(doc.has_ofd_message, "a re-sent entry that brings the message is stored")
        before = self.snapshot(doc)
        # and once more while the ticket is awaited: accepted (the till marks it delivered),
        # nothing changes, no second cash movement, no second document
        self.assertEqual(self.push("A", [carried])["accepted"], [bare["uuid"]])
        self.assertEqual(self.snapshot(doc), before)
        self.assertEqual(Doc.search_count([("uuid", "=", bare["uuid"])]), 1)
        # the till later reports the ticket written (the entry's ofd_confirmed): stored too
        confirmed = dict(carried, ofd_confirmed=True)
        self.push("A", [confirmed])
        doc.invalidate_recordset()
        self.assertTrue(doc.till_confirmed)
        # another till re-sending A's entry word for word is not a re-send: it is refused
        reply = self.push("B", [dict(carried, till_code=self.config_b.ru54fz_till_code)])
        self.assertEqual(reply["accepted"], [])
        self.assertEqual(reply["refused"][0]["code"], "owned_elsewhere")

    def test_written_tickets_stop_being_handed_back_and_only_for_the_tills_own_documents(self):
        Doc = self.env["optics.fiscal.document"].sudo()
        genuine = entry(self.config_a.ru54fz_till_code, 51, FN_A)
        self.push("A", [genuine])
        doc = Doc.search([("uuid", "=", genuine["uuid"])])
        ticket = base64.b64encode(b"ofd-ticket-51")
        doc.write({"ofd_state": "acknowledged", "ticket": ticket})
        self.assertEqual([t["uuid"] for t in self.push("A", [])["tickets"]], [genuine["uuid"]])
        # till B names A's document as written: A's ticket is still handed to A
        status, body = self.central("push", {"entries": [], "tickets_written": [genuine["uuid"]]}, key="B")
        self.assertEqual(status, 200, body)
        doc.invalidate_recordset()
        self.assertFalse(doc.till_confirmed, "another till cannot mark A's ticket as written")
        self.assertEqual([t["uuid"] for t in self.push("A", [])["tickets"]], [genuine["uuid"]])
        # a malformed list is refused, nothing changes
        status, body = self.central("push", {"entries": [], "tickets_written": "all"}, key="A")
        self.assertEqual((status, body["error"]["code"]), (400, "request_invalid"))
        status, body = self.central("push", {"entries": [], "tickets_written": [genuine["uuid"], 7]}, key="A")
        self.assertEqual(status, 400)
        doc.invalidate_recordset()
        self.assertFalse(doc.till_confirmed)
        # A says it wrote the ticket into its FN: no longer handed back
        status, body = self.central("push", {"entries": [], "tickets_written": [genuine["uuid"]]}, key="A")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["tickets"], [])
        doc.invalidate_recordset()
        self.assertTrue(doc.till_confirmed)


@tagged("post_install", "-at_install")
class TestSecurityPushAcrossStores(CashSessionCommon):
    """Store X's POS synced an order; till Y of another store pushes a receipt under that
    order's uuid (junk or a collision): central neither links it to X's order nor books it
    into X's session's cash trail."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config.write({"ru54fz_till_code": f"XS-{uuidlib.uuid4().hex[:6]}"})
        store_y = cls.env["optics.store"].sudo().create({"name": "Другой магазин", "code": "XS-Y"})
        cls.config_y = cls.env["pos.config"].create(
            {
                "name": "Till Y",
                "optics_store_id": store_y.id,
                "ru54fz_till_code": f"XS-Y-{uuidlib.uuid4().hex[:6]}",
            }
        )

    def test_a_uuid_never_reaches_into_another_store(self):
        session = self.open_new_session(0.0)
        uid = str(uuidlib.uuid4())
        self.sync_orders([self.cash_order([(self.product, 1)], uuid=uid)])
        order = self.env["pos.order"].search([("uuid", "=", uid)])
        self.assertEqual(order.session_id, session)
        movements = self.movements(session)
        before = [(m.kind, m.amount, m.operation_uuid, m.fiscal_fd_number, m.fiscal_sign) for m in movements]
        Doc = self.env["optics.fiscal.document"].sudo()
        reply = Doc._ingest_push(
            self.config_y, [entry(self.config_y.ru54fz_till_code, 61, FN_B, uid=uid, rub=90000)]
        )
        self.assertEqual(reply["accepted"], [uid])
        doc = Doc.search([("uuid", "=", uid)])
        self.assertEqual(doc.pos_config_id, self.config_y)
        self.assertFalse(doc.pos_order_id, "not linked to store X's order")
        self.assertFalse(doc.pos_session_id == session)
        self.assertEqual(
            [
                (m.kind, m.amount, m.operation_uuid, m.fiscal_fd_number, m.fiscal_sign)
                for m in self.movements(session)
            ],
            before,
            "store X's cash trail is untouched",
        )
        # the order's (browser-written) fiscal fields do not claim Y's document either
        order.write({"ru54fz_uuid": uid, "ru54fz_fd_number": 61})
        doc.invalidate_recordset()
        self.assertFalse(doc.pos_order_id)
        self.assertEqual(doc.pos_config_id, self.config_y)
