"""Set-up of the fiscal-path security tests (issue 12, items 3-5): two stores of one
company, each with a 54-FZ till served by this very Odoo (the one-machine-store mode,
``controllers/hw_proxy.py``) on the KKT emulator over TCP, a cashier and a store
manager per store.  The attacks go through real HTTP: the till proxy with the pairing
token every cashier's browser holds, and central's push and look-up routes."""

import json
import shutil
import tempfile
import uuid as uuidlib

from odoo import Command
from odoo.tests import HttpCase

from ..controllers.hw_proxy import REGISTRY
from ..ru54fz import tokens
from ..ru54fz.emulator.harness import start_emulator

PAIRING_TOKEN = "security-pairing-token"
CENTRAL_TOKENS = {"A": "security-central-token-a", "B": "security-central-token-b"}
PASSWORDS = {"manager_a": "Manager-A-secret-1", "manager_b": "Manager-B-secret-1", "cashier_a": "Cashier-A-1"}


def receipt(uid=None, operation="sale", refund_of=None, rub=2000, kind="card"):
    amount = f"{rub}.00"
    return {
        "uuid": uid or str(uuidlib.uuid4()),
        "pos_reference": "Order 00042-001-0001",
        "operation": operation,
        "cashier": {"name": "Анна Кассирова", "inn": ""},
        "buyer_contact": "",
        "tax_system": 1,
        "lines": [{"name": "Оправа", "quantity": "1.000", "price": amount, "amount": amount, "vat_code": 6}],
        "payments": [{"kind": kind, "amount": amount}],
        "refund_of": refund_of,
    }


class SecurityTillCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="ru54fz-security-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.emu = start_emulator(cls.tmp)
        cls.addClassCleanup(cls.emu.stop)
        cls.addClassCleanup(REGISTRY.stop_all)
        env = cls.env
        # administrators allow the tills to reach their (emulated) KKT (item 10, docs/security.md)
        env["ir.config_parameter"].sudo().set_param("optics_pos_ru54fz.kkt_address_allowlist", cls.emu.url)
        Store = env["optics.store"]
        cls.store_a = Store.create({"name": "Тверская", "code": f"SEC-A-{uuidlib.uuid4().hex[:4]}"})
        cls.store_b = Store.create({"name": "Невский", "code": f"SEC-B-{uuidlib.uuid4().hex[:4]}"})
        cls.configs = {}
        for key, store in (("A", cls.store_a), ("B", cls.store_b)):
            code = f"SEC-{key}-{uuidlib.uuid4().hex[:6]}"
            cls.configs[key] = env["pos.config"].create(
                {
                    "name": f"Till {key}",
                    "optics_store_id": store.id,
                    "ru54fz_enabled": True,
                    "ru54fz_till_code": code,
                    "ru54fz_proxy_url": cls.base_url(),
                    "ru54fz_device_type": "emulator",
                    "ru54fz_device_address": cls.emu.url,
                }
            )
            cls.configs[key].sudo().write(
                {
                    "ru54fz_pairing_token_hash": tokens.hash_token(PAIRING_TOKEN + key),
                    "ru54fz_central_token_hash": tokens.hash_token(CENTRAL_TOKENS[key]),
                }
            )
        cls.config_a, cls.config_b = cls.configs["A"], cls.configs["B"]

        def user(login, group, store):
            return (
                env["res.users"]
                .sudo()
                .create(
                    {
                        "name": login.replace("_", " ").title(),
                        "login": login,
                        "password": PASSWORDS.get(login),
                        "email": f"{login}@example.com",
                        "groups_id": [
                            Command.set([env.ref(group).id, env.ref("point_of_sale.group_pos_user").id])
                        ],
                        "optics_store_ids": [Command.set([store.id])],
                    }
                )
            )

        cls.cashier_a = user("cashier_a", "optics_core.group_optics_cashier", cls.store_a)
        cls.manager_a = user("manager_a", "optics_core.group_optics_store_manager", cls.store_a)
        cls.manager_b = user("manager_b", "optics_core.group_optics_store_manager", cls.store_b)

    # -- HTTP ---------------------------------------------------------------------------
    def till(self, action, body=None, key="A", grant=None):
        """Call till ``key``'s proxy as a holder of its pairing token (any cashier's browser)."""
        headers = {
            "Content-Type": "application/json",
            "X-Till-Token": PAIRING_TOKEN + key,
            "X-Till-Code": self.configs[key].ru54fz_till_code,
        }
        if grant:
            headers["X-Till-Grant"] = grant
        method = "POST" if body is not None else "GET"
        resp = self.opener.request(
            method,
            f"{self.base_url()}/hw_proxy/ru54fz/{action}",
            headers=headers,
            data=json.dumps(body) if body is not None else None,
            timeout=60,
        )
        return resp.status_code, resp.json()

    def central(self, route, body, key="B"):
        """POST to central as till ``key`` (with its central token)."""
        resp = self.opener.post(
            f"{self.base_url()}/optics_pos_ru54fz/central/{route}",
            timeout=60,
            data=json.dumps(dict(body, till_code=self.configs[key].ru54fz_till_code)),
            headers={
                "Content-Type": "application/json",
                "X-Till-Token": CENTRAL_TOKENS[key],
                "X-Till-Code": self.configs[key].ru54fz_till_code,
            },
        )
        return resp.status_code, resp.json()

    def last_fd(self):
        return self.emu.control.state()["last_fd"]

    def open_shift(self, key="A"):
        status, body = self.till(
            "open_shift", {"uuid": str(uuidlib.uuid4()), "cashier": {"name": "Анна"}}, key
        )
        self.assertIn(status, (200, 502), body)  # 502: already open

    def journal(self, key="A"):
        return self.till("journal", key=key)[1]["entries"]
