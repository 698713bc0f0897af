from odoo import Command
from odoo.tests import TransactionCase


def password_of(login):
    """The password of a test user made by :func:`create_store_user` (to log in over XML-RPC)."""
    return login + "-pw-12345"


def create_store_user(env, login, groups, stores=(), company=None, **values):
    """A user with the optics role(s) ``groups`` (an XML id or a list of them) working in
    ``stores``, as the chain's tests need them: a store's cashier, manager, optician ...

    The password is :func:`password_of` the login; with ``company`` the user belongs to that
    company only; ``values`` add to or override the user's values (a name, an email, a time
    zone)."""
    if isinstance(groups, str):
        groups = [groups]
    vals = {
        "name": login,
        "login": login,
        "password": password_of(login),
        "groups_id": [Command.set([env.ref(group).id for group in groups])],
        "optics_store_ids": [Command.set([store.id for store in stores])],
    }
    if company is not None:
        vals.update(company_id=company.id, company_ids=[Command.set(company.ids)])
    vals.update(values)
    return env["res.users"].create(vals)


def set_pos_receivable(env, company, code):
    """Give ``company`` the POS receivable account its tills post to (new account ``code``)."""
    company.account_default_pos_receivable_account_id = env["account.account"].create(
        {
            "code": code,
            "name": f"POS receivable ({code})",
            "account_type": "asset_receivable",
            "reconcile": True,
        }
    )


#: payment kind of a test till -> (journal name, journal type, payment method name)
TILL_PAYMENTS = {"cash": ("Cash", "cash", "Cash"), "card": ("Bank", "bank", "Card")}


def create_store_till(env, store, code, payment="cash"):
    """A POS till (``pos.config``) of ``store`` named after ``code``, paid one way: ``cash`` or
    ``card``, through a journal of its own (code ``code``)."""
    journal_name, journal_type, method_name = TILL_PAYMENTS[payment]
    company = store.company_id
    journal = env["account.journal"].create(
        {"name": f"{journal_name} {code}", "type": journal_type, "code": code, "company_id": company.id}
    )
    method = env["pos.payment.method"].create(
        {"name": f"{method_name} {code}", "journal_id": journal.id, "company_id": company.id}
    )
    return env["pos.config"].create(
        {
            "name": f"Till {code}",
            "optics_store_id": store.id,
            "company_id": company.id,
            "payment_method_ids": [Command.set(method.ids)],
        }
    )


def rpc_as(case, user, model, method, args, kwargs=None):
    """``model.method(*args, **kwargs)`` over XML-RPC (an ``HttpCase``'s server) as ``user``, a
    user of :func:`create_store_user`: what that user's own client could do."""
    password = password_of(user.login)
    uid = case.xmlrpc_common.authenticate(case.env.cr.dbname, user.login, password, {})
    case.assertTrue(uid, f"{user.login} cannot log in")
    return case.xmlrpc_object.execute_kw(case.env.cr.dbname, uid, password, model, method, args, kwargs or {})


class OpticsCase(TransactionCase):
    """Stores, one user per optics role, a small catalog and a customer; no demo data needed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.company = env.company
        cls.store_a = env["optics.store"].create({"name": "Test store A", "code": "TSTA"})
        cls.store_b = env["optics.store"].create({"name": "Test store B", "code": "TSTB"})

        def user(login, group, stores=()):
            return create_store_user(env, login, group, stores, email=f"{login}@example.com")

        cls.users = {
            "cashier": user("t_cashier_a", "optics_core.group_optics_cashier", [cls.store_a]),
            "optician": user("t_optician_a", "optics_core.group_optics_optician", [cls.store_a]),
            "manager": user("t_manager_a", "optics_core.group_optics_store_manager", [cls.store_a]),
            "accountant": user("t_accountant", "optics_core.group_optics_accountant"),
            "admin": user("t_admin", "optics_core.group_optics_admin", [cls.store_a, cls.store_b]),
        }
        cls.cashier_b = user("t_cashier_b", "optics_core.group_optics_cashier", [cls.store_b])

        cls.tax_exempt = env["account.tax"].create(
            {
                "name": "Test exempt",
                "amount": 0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "ffd_vat_code": "6",
            }
        )
        cls.tax_22 = env["account.tax"].create(
            {
                "name": "Test VAT 22",
                "amount": 22,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "ffd_vat_code": "11",
            }
        )
        cls.frame = env["product.product"].create(
            {
                "name": "Test frame 52-18",
                "optics_type": "frame",
                "list_price": 5000.0,
                "barcode": "4600000000017",
                "taxes_id": [Command.set(cls.tax_exempt.ids)],
                "frame_a": 52,
                "frame_b": 40,
                "frame_dbl": 18,
                "frame_ed": 55,
                "frame_progressive_height": 18,
            }
        )
        cls.shallow_frame = env["product.product"].create(
            {
                "name": "Test shallow frame",
                "optics_type": "frame",
                "list_price": 3000.0,
                "taxes_id": [Command.set(cls.tax_exempt.ids)],
                "frame_a": 48,
                "frame_b": 28,
                "frame_dbl": 18,
                "frame_ed": 50,
                "frame_progressive_height": 14,
            }
        )
        cls.lens_sv_tmpl = env["product.template"].create(
            {
                "name": "Test SV lens 1.60",
                "optics_type": "spectacle_lens",
                "list_price": 2000.0,
                "taxes_id": [Command.set(cls.tax_exempt.ids)],
            }
        )
        cls.lens_pal_tmpl = env["product.template"].create(
            {
                "name": "Test PAL lens 1.50",
                "optics_type": "spectacle_lens",
                "list_price": 6000.0,
                "taxes_id": [Command.set(cls.tax_exempt.ids)],
            }
        )
        cls.design_sv = env["optics.lens.design"].create(
            {
                "name": "Test SV 1.60",
                "product_tmpl_id": cls.lens_sv_tmpl.id,
                "lens_type": "single",
                "index": 1.60,
                "range_ids": [
                    Command.create(
                        {"diameter": 65, "sph_min": -8, "sph_max": 6, "cyl_min": -4, "cyl_max": 0}
                    ),
                    Command.create(
                        {"diameter": 70, "sph_min": -6, "sph_max": 4, "cyl_min": -2, "cyl_max": 0}
                    ),
                ],
            }
        )
        cls.design_pal = env["optics.lens.design"].create(
            {
                "name": "Test PAL 1.50",
                "product_tmpl_id": cls.lens_pal_tmpl.id,
                "lens_type": "progressive",
                "index": 1.50,
                "min_fitting_height": 17,
                "range_ids": [
                    Command.create(
                        {
                            "diameter": 70,
                            "sph_min": -8,
                            "sph_max": 6,
                            "cyl_min": -4,
                            "cyl_max": 0,
                            "add_min": 0.75,
                            "add_max": 3.5,
                        }
                    )
                ],
            }
        )
        cls.customer = env["res.partner"].create(
            {"name": "Test Customer Optics", "phone": "+7 999 111-22-33"}
        )
        # written in store A: its staff read it (prescriptions follow the stores, issue 12 item 8)
        cls.rx = env["optics.prescription"].create(
            {
                "partner_id": cls.customer.id,
                "purpose": "distance",
                "store_id": cls.store_a.id,
                "od_sph": -2.25,
                "od_cyl": -0.75,
                "od_axis": 10,
                "os_sph": -2.0,
                "os_cyl": 0.5,
                "os_axis": 80,
                "od_add": 2.0,
                "os_add": 2.0,
                "od_fitting_height": 19,
                "os_fitting_height": 19,
                "od_pd_far": 32,
                "os_pd_far": 31.5,
            }
        )

    def _order(self, **vals):
        values = {"partner_id": self.customer.id, "store_id": self.store_a.id, "prescription_id": self.rx.id}
        values.update(vals)
        return self.env["optics.lab.order"].create(values)

    def _force_state(self, order, state):
        """Test fixture: put an order in a state without running the workflow (through the
        model's private write path, which no client can reach: see test_security_lab_order)."""
        order._write_privileged("workflow", {"state": state})
        return order
