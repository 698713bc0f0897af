"""Issue 12, item 10: the central-served till mode.

The till code and the KKT address of a ``pos.config`` become a journal file name and a socket
the server opens: a POS manager can no longer point them anywhere.  The raw pairing token is
not stored: the POS gets a token derived for its session, which dies with the session.
"""

import shutil
import socket
import tempfile
import threading
import time
import uuid
import xmlrpc.client
from pathlib import Path

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from odoo.addons.optics_core.tests.common import create_store_user, rpc_as

from ..controllers.hw_proxy import REGISTRY
from ..ru54fz import tokens
from ..ru54fz.emulator.harness import start_emulator

USER_ERROR, ACCESS_ERROR = 2, 4  # fault codes of /xmlrpc/2/object
ALLOWLIST = "optics_pos_ru54fz.kkt_address_allowlist"


class _Listener:
    """A TCP port that counts who connects (stands for an internal service)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


@tagged("post_install", "-at_install")
class TestSecurityTillMode(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="ru54fz-sec-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.emu = start_emulator(cls.tmp)
        cls.addClassCleanup(cls.emu.stop)
        cls.addClassCleanup(REGISTRY.stop_all)
        cls.env["ir.config_parameter"].sudo().set_param(ALLOWLIST, cls.emu.url)
        # the in-server till also hands out the manager-grant public key; its key pair is made
        # lazily, which a till request (read-only cursor) cannot do: make it here
        Config = cls.env["pos.config"]
        Config._ru54fz_grant_private_key()
        cls.store = cls.env["optics.store"].create({"name": "Sec till store", "code": "SEC-TM"})
        cls.pairing = tokens.generate()
        cls.till_code = f"SECTM-{uuid.uuid4().hex[:6]}"
        cls.config = cls.env["pos.config"].create(
            {
                "name": "Sec till",
                "optics_store_id": cls.store.id,
                "ru54fz_enabled": True,
                "ru54fz_till_code": cls.till_code,
                "ru54fz_proxy_url": cls.base_url(),
                "ru54fz_device_type": "emulator",
                "ru54fz_device_address": cls.emu.url,
                "ru54fz_pairing_token_hash": tokens.hash_token(cls.pairing),
            }
        )
        cls.other_config = cls.env["pos.config"].create(
            {
                "name": "Sec other till",
                "optics_store_id": cls.store.id,
                "ru54fz_enabled": True,
                "ru54fz_till_code": f"SECTM2-{uuid.uuid4().hex[:6]}",
                "ru54fz_proxy_url": cls.base_url(),
                "ru54fz_device_type": "emulator",
                "ru54fz_device_address": cls.emu.url,
                "ru54fz_pairing_token_hash": tokens.hash_token(tokens.generate()),
            }
        )

        def user(login, groups):
            return create_store_user(cls.env, login, groups, cls.store)

        cls.pos_manager = user(
            "sec_tm_pos_manager",
            ["point_of_sale.group_pos_manager", "optics_core.group_optics_store_manager"],
        )
        cls.cashier = user("sec_tm_cashier", ["optics_core.group_optics_cashier"])

    def _rpc(self, user, model, method, args):
        return rpc_as(self, user, model, method, args)

    def _status(self, token, code=None):
        headers = {"X-Till-Token": token}
        if code:
            headers["X-Till-Code"] = code
        resp = self.opener.get(self.base_url() + "/hw_proxy/ru54fz/status", headers=headers, timeout=30)
        is_json = resp.headers.get("Content-Type", "").startswith("application/json")
        return resp.status_code, resp.json() if is_json else resp.text

    def _settings(self, config):
        config.invalidate_recordset()
        return config.sudo().read(["ru54fz_till_code", "ru54fz_device_address"])[0]

    # -- till code and journal -------------------------------------------------------------

    def test_pos_manager_cannot_point_the_journal_outside_the_data_dir(self):
        before = self._settings(self.config)
        target = Path(self.tmp) / "escaped"
        for code in (f"../../../../../..{target}", "a/b", "..", "MSK1 01", "x" * 33, "-rf"):
            with self.subTest(code=code), self.assertRaises(xmlrpc.client.Fault) as caught:
                self._rpc(
                    self.pos_manager, "pos.config", "write", [[self.config.id], {"ru54fz_till_code": code}]
                )
            self.assertEqual(caught.exception.faultCode, USER_ERROR)
            self.assertIn("till code", caught.exception.faultString)
        self.assertEqual(self._settings(self.config), before)
        # a code that predates the check (written straight into the table) is not served at all
        self.env.cr.execute(
            "UPDATE pos_config SET ru54fz_till_code = %s WHERE id = %s",
            (f"../../../../../..{target}", self.other_config.id),
        )
        self.other_config.invalidate_recordset()
        status, _body = self._status(self.pairing, code=f"../../../../../..{target}")
        self.assertEqual(status, 401)
        self.assertFalse(list(Path(self.tmp).glob("escaped*")), "no file written outside the data dir")

    # -- KKT address ------------------------------------------------------------------------

    def test_pos_manager_cannot_make_the_server_connect_to_an_internal_host(self):
        internal = _Listener()
        self.addCleanup(internal.close)
        before = self._settings(self.config)
        for address in (
            f"tcp://127.0.0.1:{internal.port}",
            "tcp://10.0.0.5:5432",
            "serial:///etc/passwd",
            "http://169.254.169.254:80",
            f"tcp://user@127.0.0.1:{internal.port}",
        ):
            with self.subTest(address=address), self.assertRaises(xmlrpc.client.Fault) as caught:
                self._rpc(
                    self.pos_manager,
                    "pos.config",
                    "write",
                    [[self.config.id], {"ru54fz_device_address": address}],
                )
            self.assertEqual(caught.exception.faultCode, USER_ERROR)
            self.assertIn("not allowed", caught.exception.faultString)
        self.assertEqual(self._settings(self.config), before)
        # the allow-list is the administrators': a POS manager cannot widen it
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(self.pos_manager, "ir.config_parameter", "set_param", [ALLOWLIST, "tcp://127.0.0.1:*"])
        self.assertEqual(caught.exception.faultCode, ACCESS_ERROR)
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(ALLOWLIST), self.emu.url)
        # an address that predates the check: the till refuses to use it, and says why
        REGISTRY.stop_all()
        self.env.cr.execute(
            "UPDATE pos_config SET ru54fz_device_address = %s WHERE id = %s",
            (f"tcp://127.0.0.1:{internal.port}", self.config.id),
        )
        self.config.invalidate_recordset()
        status, body = self._status(self.pairing, code=self.till_code)
        self.assertEqual(status, 400, body)
        self.assertIn("allow-list", body["error"]["message"])
        time.sleep(0.5)
        self.assertEqual(internal.connections, 0, "the server never connected to it")

    # -- tokens -----------------------------------------------------------------------------

    def test_raw_pairing_token_is_not_stored_and_the_pos_gets_a_session_token(self):
        REGISTRY.stop_all()
        action = self.config.with_user(self.env.ref("base.user_admin")).action_ru54fz_generate_pairing_token()
        raw = action["params"]["message"].split(" ")[0]
        self.env.flush_all()
        self.env.cr.execute("SELECT row_to_json(c)::text FROM pos_config c WHERE id = %s", (self.config.id,))
        self.assertNotIn(raw, self.env.cr.fetchone()[0], "no column of the till's pos.config holds the token")
        self.env.cr.execute("SELECT count(*) FROM ir_config_parameter WHERE value LIKE %s", (f"%{raw}%",))
        self.assertEqual(self.env.cr.fetchone()[0], 0)

        self.config.open_ui()
        session = self.config.current_session_id
        ui = session.with_user(self.cashier)._ru54fz_prepare_ui_data()
        pos_token = ui["_ru54fz_till_token"]
        self.assertTrue(pos_token.startswith(f"st1.pos{session.id}."), pos_token)
        self.assertNotIn(raw, pos_token)
        self.assertEqual(self._status(pos_token)[0], 200, "the till serves the open session's POS")
        self.assertEqual(self._status(pos_token, code=self.till_code)[0], 200)
        # not for another till, not tampered with, not for another session
        self.assertEqual(self._status(pos_token, code=self.other_config.ru54fz_till_code)[0], 401)
        _prefix, _subject, expires, mac = pos_token.split(".")
        for forged in (
            f"st1.pos{session.id + 1}.{expires}.{mac}",
            f"st1.bo.{expires}.{mac}",
            f"st1.pos{session.id}.{int(expires) + 3600}.{mac}",
        ):
            self.assertEqual(self._status(forged)[0], 401, forged)
        key = self.config._ru54fz_session_key()
        expired = tokens.issue_session_token(key, self.till_code, f"pos{session.id}", time.time() - 1)
        self.assertEqual(self._status(expired)[0], 401)
        # closed session: its token is dead
        session.sudo().write({"state": "closed"})
        self.assertEqual(self._status(pos_token)[0], 401)
        # a new pairing token revokes every derived token (the back office's too)
        back_office = self.config._ru54fz_till_client().token
        self.assertEqual(self._status(back_office)[0], 200)
        self.config.action_ru54fz_generate_pairing_token()
        self.assertEqual(self._status(back_office)[0], 401)
        self.assertEqual(self._status(raw)[0], 401)

    def test_pos_token_is_only_for_who_may_run_the_session(self):
        self.config.open_ui()
        session = self.config.current_session_id
        other_store = self.env["optics.store"].create({"name": "Sec elsewhere", "code": "SEC-TM-X"})
        outsider = create_store_user(
            self.env, "sec_tm_outsider", "optics_core.group_optics_cashier", other_store
        )
        self.assertFalse(session._ru54fz_may_receive_till_token(outsider))
        with self.assertRaises(AccessError):
            session.with_user(outsider)._ru54fz_prepare_ui_data()
