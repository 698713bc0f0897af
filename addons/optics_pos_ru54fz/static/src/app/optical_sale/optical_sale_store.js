/**
 * PosStore side of the optical sale: server calls of the optical-sale screen, the lab orders
 * this POS has loaded (kept for offline hand-over and prepayment), and the POS order that
 * pays a lab order, fiscalised with the lines the lab order computed.
 */
// after the 54-FZ store patch, whose ru54fzBuildPayload this one overrides
import "@optics_pos_ru54fz/app/pos_store_patch";
import {AlertDialog} from "@web/core/confirmation_dialog/confirmation_dialog";
import {PosOrder} from "@point_of_sale/app/models/pos_order";
import {PosStore} from "@point_of_sale/app/store/pos_store";
import {_t} from "@web/core/l10n/translation";
import {buildSettlementPayload} from "./settlement_payload";
import {patch} from "@web/core/utils/patch";

export const LAB_PAYMENT_CODE = "OPTICS-LAB-PAYMENT";

patch(PosStore.prototype, {
    async setup() {
        /** Lab order id -> its last known POS info (optics.lab.order._optics_pos_info) */
        this.opticsLabOrders = {};
        return await super.setup(...arguments);
    },

    opticsRememberOrders(infos) {
        for (const info of infos || []) {
            if (info?.id) {
                this.opticsLabOrders[info.id] = info;
            }
        }
        return infos;
    },

    /** Lab orders loaded in this session matching a number or a phone (offline search). */
    opticsSearchLoaded(query) {
        const q = (query || "").trim().toLowerCase();
        const digits = q.replace(/\D/g, "").slice(-10);
        return Object.values(this.opticsLabOrders).filter(
            (o) =>
                o.name.toLowerCase() === q ||
                o.name.toLowerCase().includes(q) ||
                (digits.length === 10 &&
                    (o.partner_phone || "").replace(/\D/g, "").endsWith(digits))
        );
    },

    opticsLabPaymentProduct() {
        return this.models["product.product"].find(
            (p) => p.default_code === LAB_PAYMENT_CODE
        );
    },

    /**
     * A new POS order paying `info` for `stage` (prepayment | handover | prepayment_refund),
     * then the payment screen. The order carries the lab order and stage; the amount reaches
     * the lab order only from the fiscalised receipt (server side).
     */
    async opticsStartPayment(info, stage) {
        const settlement =
            stage === "prepayment"
                ? info.prepayment
                : stage === "handover"
                  ? info.handover
                  : info.refund;
        const product = this.opticsLabPaymentProduct();
        if (!settlement || !product) {
            this.dialog.add(AlertDialog, {
                title: _t("Nothing to pay"),
                body: product
                    ? _t("Lab order %s has nothing to pay at this stage.", info.name)
                    : _t(
                          "The lab-order payment product is not available in this point of sale."
                      ),
            });
            return false;
        }
        const kop =
            stage === "handover"
                ? settlement.due
                : (settlement.total ??
                  settlement.lines.reduce((a, l) => a + l.amount, 0));
        const order = this.add_new_order();
        await this.addLineToCurrentOrder(
            {
                product_id: product,
                price_unit: kop / 100,
                qty: stage === "prepayment_refund" ? -1 : 1,
                full_product_name: this.opticsPaymentLabel(info, stage),
            },
            {},
            false
        );
        order.optics_lab_order_ref = info.id;
        order.optics_settlement_stage = stage;
        order.uiState.opticsSettlement = {stage, settlement, labOrder: info.name};
        this.showScreen("PaymentScreen", {orderUuid: order.uuid});
        return order;
    },

    opticsPaymentLabel(info, stage) {
        if (stage === "prepayment") {
            return _t("Prepayment for glasses order %s", info.name);
        }
        if (stage === "handover") {
            return _t("Balance for glasses order %s", info.name);
        }
        return _t("Refund of the prepayment for glasses order %s", info.name);
    },

    ru54fzBuildPayload(order, ctx) {
        const settlementInfo = order.uiState?.opticsSettlement;
        if (settlementInfo) {
            return buildSettlementPayload(order, settlementInfo, ctx);
        }
        return super.ru54fzBuildPayload(...arguments);
    },
});

patch(PosOrder.prototype, {
    /** The printed receipt shows the items the KKT fiscalised, not the payment line. */
    export_for_printing() {
        const data = super.export_for_printing(...arguments);
        const info = this.uiState?.opticsSettlement;
        if (info) {
            data.opticsSettlement = {
                labOrder: info.labOrder,
                lines: info.settlement.lines.map((l) => ({
                    name: l.name,
                    amount: l.amount / 100,
                    vat: l.vat_label || "",
                    method: l.method_label || "",
                })),
                prepaid:
                    info.stage === "handover"
                        ? (info.settlement.prepaid || 0) / 100
                        : 0,
            };
        }
        return data;
    },
});
