"""A central server stub on loopback HTTP for the till's security tests.

It answers the two routes the till calls, the way ``controllers/central.py`` does:
``/optics_pos_ru54fz/central/push`` (accepts everything) and
``/optics_pos_ru54fz/central/refundable`` (central's record of a sale, from
``self.documents``: uuid -> the reply; 404 for a uuid it does not hold).  Both
check the till's central token.  ``lookups`` records what the till asked.
"""

import json

from loopback_http import JsonHandler, LoopbackServer
from ru54fz import tokens


class StubCentral(LoopbackServer):
    def __init__(self, till_code="T1", token="central-secret"):
        super().__init__()
        self.till_code = till_code
        self.token = token
        self.token_hash = tokens.hash_token(token)
        self.documents = {}
        self.lookups = []

    def start(self):
        central = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if (
                    not tokens.verify(self.headers.get("X-Till-Token", ""), central.token_hash)
                    or body.get("till_code") != central.till_code
                ):
                    return self.send_json(401, {"error": {"code": "unauthorized", "message": "no"}})
                if self.path.endswith("/central/refundable"):
                    central.lookups.append(body.get("uuid"))
                    doc = central.documents.get(body.get("uuid"))
                    if doc is None:
                        return self.send_json(
                            404, {"error": {"code": "unknown_original", "message": "unknown"}}
                        )
                    return self.send_json(200, doc)
                if self.path.endswith("/central/push"):
                    return self.send_json(
                        200, {"accepted": [e["uuid"] for e in body.get("entries", [])], "tickets": []}
                    )
                return self.send_json(404, {"error": {"code": "not_found", "message": self.path}})

        return self.serve(Handler)

    def add_sale(self, uuid, payments, ofd_confirmed=True, refunds=(), fiscal_sign=1234567890, fd_number=77):
        self.documents[uuid] = {
            "uuid": uuid,
            "kind": "sale",
            "fd_number": fd_number,
            "fiscal_sign": fiscal_sign,
            "payments": payments,
            "ofd_confirmed": ofd_confirmed,
            "refunds": [{"uuid": u, "payments": p} for u, p in refunds],
        }
