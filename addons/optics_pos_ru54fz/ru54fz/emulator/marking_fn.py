"""The emulated FN's marking-code commands (FF61 check, FF69 accept, FF67 bind) and the
close-time rule, for the Shtrih front-end (54fz.md §3.2 [S15]).

Strict sequence: every FF61 is answered by FF69 before the next FF61; FF67 binds an
accepted code to the last item, which must be a marked one (1212 = 31/33) of an
operation matching the checked planned status (sale 1/2, refund 3/4), once; a
receipt with a marked item that has no bound code is refused at the close.  The
checked codes are forgotten with the receipt (formed or cancelled).  What the
marking operator answers per code identity is set with ``oism``
(valid / sold / blocked / expired / offline).
"""

from .. import marking

#: sequence errors: "the command is not allowed in the FN's current state" [ADOPTED]
WRONG_STATE = 0x02
BAD_PARAM = 0x33
SALE_STATUSES = {1: (1, 2), 2: (3, 4), 3: (3, 4), 4: (1, 2)}


class FnMarking:
    def __init__(self, model):
        self.model = model
        self.pending = None
        self.accepted = []
        self.oism = {}

    def handlers(self):
        return {0xFF61: self.check, 0xFF69: self.accept, 0xFF67: self.bind}

    def reset(self):
        self.pending = None
        self.accepted.clear()

    # ------------------------------------------------------------------ commands
    def check(self, req, cmd):
        from .model import Refused

        if self.pending is not None:
            raise Refused(WRONG_STATE)  # FF69 must follow every FF61
        data = req["data"]
        if req["km_len"] == 0 or req["km_len"] + req["tlv_len"] != len(data):
            raise Refused(BAD_PARAM)
        if req["status"] not in (1, 2, 3, 4, 255) or req["mode"] != 0:
            raise Refused(BAD_PARAM)
        raw = data[: req["km_len"]].decode("ascii", errors="replace")
        try:
            code = marking.parse(raw)
        except Exception:  # noqa: BLE001 - an unreadable code: unrecognised, not checkable
            code = None
        if code is not None and "92" in code.fields:
            local_status, reason, km_type = 1, 0, 4  # КМ44 checked in the FN
        elif code is not None:
            local_status, reason, km_type = 0, 1, 5  # КМ4: not checkable in the FN
        else:
            local_status, reason, km_type = 0, 4, 0
        answer = self.oism.get(code.cis if code else raw, "valid")
        returning = req["status"] in (3, 4)
        correct = answer == "valid" or (returning and answer == "sold")
        bits = 0b11 if local_status else 0b01  # checked; positive only in the FN
        if answer == "offline":
            bits |= 1 << 4
            server = b""
        else:
            bits |= (1 << 2) | ((1 << 3) if correct else 0)
            if not local_status and correct:
                bits |= 1 << 1  # the operator's check is positive
            server = bytes((bits, 0))
        self.pending = {"km": raw, "status": req["status"], "bits": bits, "km_type": km_type}
        return {
            "local_status": local_status,
            "local_reason": reason,
            "km_type": km_type,
            "params_len": len(server),
            "server": server,
        }

    def accept(self, req, cmd):
        from .model import Refused

        action = req["action"]
        if action == 2:
            self.reset()
            return {}
        if action not in (0, 1):
            raise Refused(BAD_PARAM)
        if self.pending is None:
            raise Refused(WRONG_STATE)
        pending, self.pending = self.pending, None
        if action == 1:
            self.accepted.append(pending)
            return {"check_result": pending["bits"]}
        return {}

    def bind(self, req, cmd):
        from ..shtrih import codec
        from .model import Refused

        doc = self.model.state["doc"]
        if not doc or doc["kind"] != "receipt" or not doc["items"]:
            raise Refused(WRONG_STATE)
        item = doc["items"][-1]
        if item["subject"] not in (31, 33) or any(int(t) == 2000 for t, _ in item.get("tlvs", [])):
            raise Refused(WRONG_STATE)
        raw = bytes(req["km"]).decode("ascii", errors="replace")
        entry = next((a for a in self.accepted if a["km"] == raw), None)
        if entry is None or entry["status"] not in SALE_STATUSES.get(doc["operation"], ()):
            raise Refused(WRONG_STATE)  # not checked and accepted, or not for this operation
        self.accepted.remove(entry)
        tlvs = [
            codec.tlv(2000, raw),
            codec.tlv_u8(2102, 0),
            codec.tlv_u8(2106, entry["bits"]),
            codec.tlv_u8(2110, entry["status"]),
        ]
        item.setdefault("tlvs", []).extend(
            [[t, v.hex()] for t, v in ((tag, value) for tag, value in codec.parse_tlvs(b"".join(tlvs)))]
        )
        self.model._changed()
        return {"code_type": entry["km_type"], "dm_type": 0 if entry["km_type"] == 4 else 3, "check": b""}

    # ------------------------------------------------------------------ close
    def check_close(self, doc):
        """Every marked item carries its bound code, or the FN refuses the receipt."""
        from .model import Refused

        for item in doc.get("items", []):
            if item["subject"] in (31, 33) and not any(int(t) == 2000 for t, _ in item.get("tlvs", [])):
                raise Refused(WRONG_STATE)
