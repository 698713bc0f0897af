/**
 * The optical sale in the POS: customer by phone, prescriptions, glasses order, payments of a
 * lab order and hand-over. Every rule (phone format, prescription ranges and steps, lens
 * makeability, amounts, store scope, roles) is checked on the server; this screen shows the
 * server's messages as they are.
 */
import {Component, useState} from "@odoo/owl";
import {ConnectionLostError, RPCError} from "@web/core/network/rpc";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {usePos} from "@point_of_sale/app/store/pos_hook";

const EYES = ["od", "os"];
const EYE_FIELDS = ["sph", "cyl", "axis", "add", "prism1", "prism1_base", "pd_far"];

function emptyRx() {
    const rx = {date: "", pd_far: "", pd_near: ""};
    for (const eye of EYES) {
        for (const f of EYE_FIELDS) {
            rx[`${eye}_${f}`] = "";
        }
        rx[`${eye}_fitting_height`] = "";
    }
    return rx;
}

export class OpticalSaleScreen extends Component {
    static template = "optics_pos_ru54fz.OpticalSaleScreen";
    static props = {};
    static storeOnOrder = false;

    setup() {
        this.pos = usePos();
        this.EYES = EYES;
        this.state = useState({
            step: "customer",
            error: "",
            info: "",
            phone: "",
            customers: [],
            searched: false,
            newCustomer: null,
            customer: null,
            rx: emptyRx(),
            rxId: null,
            catalog: null,
            order: this.emptyOrder(),
            created: null,
            query: "",
            found: [],
        });
    }

    emptyOrder() {
        return {
            frame_product_id: "",
            frame_by_customer: false,
            od_design_id: "",
            os_design_id: "",
            coating_ids: [],
            fitting: true,
            prepayment_amount: "",
        };
    }

    // ------------------------------------------------------------------ helpers
    async call(model, method, args) {
        this.state.error = "";
        this.state.info = "";
        try {
            return await this.pos.data.call(model, method, args);
        } catch (error) {
            if (error instanceof RPCError) {
                this.state.error = error.data?.message || error.message;
                return null;
            }
            if (error instanceof ConnectionLostError) {
                this.state.error = _t(
                    "The central server is unreachable: only lab orders already loaded in this session can be paid or handed over."
                );
                return null;
            }
            throw error;
        }
    }

    formatMoney(value) {
        return this.env.utils.formatCurrency(value || 0);
    }

    get selectedRx() {
        return (
            this.state.customer?.prescriptions.find((p) => p.id === this.state.rxId) ||
            null
        );
    }

    // ------------------------------------------------------------------ customer
    async searchCustomers() {
        const found = await this.call("res.partner", "optics_pos_find_customers", [
            this.state.phone,
        ]);
        if (found) {
            this.state.customers = found;
            this.state.searched = true;
            for (const c of found) {
                this.pos.opticsRememberOrders(c.lab_orders);
            }
            if (found.length === 1) {
                this.selectCustomer(found[0]);
            } else if (!found.length) {
                this.state.newCustomer = {
                    name: "",
                    phone: this.state.phone,
                    email: "",
                    sms_consent: false,
                    email_consent: false,
                };
            }
        }
    }

    startNewCustomer() {
        this.state.newCustomer = {
            name: "",
            phone: this.state.phone,
            email: "",
            sms_consent: false,
            email_consent: false,
        };
    }

    async createCustomer() {
        const customer = await this.call("res.partner", "optics_pos_create_customer", [
            this.state.newCustomer,
        ]);
        if (customer) {
            this.state.newCustomer = null;
            this.state.customers = [customer];
            this.selectCustomer(customer);
        }
    }

    selectCustomer(customer) {
        this.state.customer = customer;
        const valid = customer.prescriptions.find((p) => !p.is_expired);
        this.state.rxId = (valid || customer.prescriptions[0])?.id || null;
    }

    selectRx(id) {
        this.state.rxId = id;
    }

    async reloadCustomer() {
        if (!this.state.customer) {
            return;
        }
        const found = await this.call("res.partner", "optics_pos_find_customers", [
            this.state.customer.phone,
        ]);
        const customer = found?.find((c) => c.id === this.state.customer.id);
        if (customer) {
            this.pos.opticsRememberOrders(customer.lab_orders);
            const rxId = this.state.rxId;
            this.selectCustomer(customer);
            if (customer.prescriptions.some((p) => p.id === rxId)) {
                this.state.rxId = rxId;
            }
        }
    }

    // ------------------------------------------------------------------ prescription
    newPrescription() {
        this.state.rx = emptyRx();
        this.state.step = "prescription";
        this.state.error = "";
    }

    async savePrescription() {
        const vals = {};
        for (const [key, value] of Object.entries(this.state.rx)) {
            const text = String(value ?? "")
                .trim()
                .replace(",", ".");
            if (text === "") {
                continue;
            }
            if (key === "date" || key.endsWith("_base")) {
                vals[key] = text;
            } else {
                vals[key] = Number(text);
                if (Number.isNaN(vals[key])) {
                    this.state.error = _t("%s is not a number.", text);
                    return;
                }
            }
        }
        const rx = await this.call(
            "optics.prescription",
            "optics_pos_create_prescription",
            [this.state.customer.id, vals]
        );
        if (rx) {
            this.state.customer.prescriptions.unshift(rx);
            this.state.rxId = rx.id;
            this.state.step = "customer";
            this.state.info = _t("Prescription saved.");
        }
    }

    // ------------------------------------------------------------------ glasses order
    async newOrder() {
        if (!this.selectedRx) {
            this.state.error = _t("Choose a prescription first.");
            return;
        }
        this.state.order = this.emptyOrder();
        this.state.created = null;
        await this.loadCatalog();
        if (this.state.catalog) {
            this.state.step = "order";
        }
    }

    async loadCatalog() {
        const catalog = await this.call("optics.lab.order", "optics_pos_catalog", [
            this.pos.config.id,
            this.state.rxId,
            Number(this.state.order.frame_product_id) || false,
        ]);
        if (catalog) {
            this.state.catalog = catalog;
        }
    }

    designsFor(eye) {
        return (this.state.catalog?.designs || []).filter((d) => d[`${eye}_ok`]);
    }

    get unmakeableDesigns() {
        return (this.state.catalog?.designs || []).filter((d) => !d.od_ok || !d.os_ok);
    }

    get offeredCoatings() {
        const ids = new Set([
            Number(this.state.order.od_design_id),
            Number(this.state.order.os_design_id),
        ]);
        const seen = new Map();
        for (const design of this.state.catalog?.designs || []) {
            if (ids.has(design.id)) {
                for (const c of design.coatings) {
                    seen.set(c.id, c);
                }
            }
        }
        return [...seen.values()];
    }

    toggleCoating(id) {
        const list = this.state.order.coating_ids;
        const i = list.indexOf(id);
        if (i >= 0) {
            list.splice(i, 1);
        } else {
            list.push(id);
        }
    }

    async onFrameChange(ev) {
        this.state.order.frame_product_id = ev.target.value;
        await this.loadCatalog();
    }

    async createOrder() {
        const o = this.state.order;
        const created = await this.call("optics.lab.order", "optics_pos_create_order", [
            this.pos.config.id,
            {
                partner_id: this.state.customer.id,
                prescription_id: this.state.rxId,
                frame_product_id: Number(o.frame_product_id) || false,
                frame_by_customer: o.frame_by_customer,
                od_design_id: Number(o.od_design_id) || false,
                os_design_id: Number(o.os_design_id) || false,
                coating_ids: o.coating_ids,
                fitting: o.fitting,
                prepayment_amount:
                    Number(String(o.prepayment_amount || "0").replace(",", ".")) || 0,
            },
        ]);
        if (created) {
            this.pos.opticsRememberOrders([created]);
            this.state.created = created;
            this.state.customer.lab_orders.unshift(created);
        }
    }

    ticketUrl(order) {
        return `/report/pdf/optics_core.report_lab_order_ticket/${order.id}`;
    }

    // ------------------------------------------------------------------ payments / hand-over
    async pay(order, stage) {
        await this.pos.opticsStartPayment(order, stage);
    }

    async searchOrders() {
        const found = await this.call("optics.lab.order", "optics_pos_find_orders", [
            this.pos.config.id,
            this.state.query,
        ]);
        if (found) {
            this.state.found = this.pos.opticsRememberOrders(found);
        } else if (this.pos.data.network.offline || this.state.error) {
            const loaded = this.pos.opticsSearchLoaded(this.state.query);
            if (loaded.length) {
                this.state.found = loaded;
                this.state.info = _t(
                    "Offline: showing the lab orders loaded in this session."
                );
            }
        }
    }

    async refreshOrder(order) {
        const infos = await this.call("optics.lab.order", "optics_pos_order_info", [
            this.pos.config.id,
            [order.id],
        ]);
        if (infos?.length) {
            this.pos.opticsRememberOrders(infos);
            const replace = (list) =>
                list.map((o) => (o.id === infos[0].id ? infos[0] : o));
            this.state.found = replace(this.state.found);
            if (this.state.customer) {
                this.state.customer.lab_orders = replace(
                    this.state.customer.lab_orders
                );
            }
            if (this.state.created?.id === infos[0].id) {
                this.state.created = infos[0];
            }
        }
    }

    async issue(order) {
        const infos = await this.call("optics.lab.order", "optics_pos_issue", [
            [order.id],
            this.pos.config.id,
        ]);
        if (infos?.length) {
            this.pos.opticsRememberOrders(infos);
            this.state.found = this.state.found.map((o) =>
                o.id === infos[0].id ? infos[0] : o
            );
            this.state.info = _t("Lab order %s issued.", infos[0].name);
        }
    }

    goto(step) {
        this.state.error = "";
        this.state.info = "";
        this.state.step = step;
    }

    back() {
        this.pos.showScreen("ProductScreen");
    }
}

registry.category("pos_screens").add("OpticalSaleScreen", OpticalSaleScreen);
