/**
 * Marked goods (Честный ЗНАК) in the POS screens: adding a product of a marked group
 * first asks for the unit's DataMatrix code (MarkingScanDialog); the unit is added on
 * its own line with the code (pos.order.line.ru54fz_marking_code, stored with the
 * order), never merged with another unit, and the same unit is never accepted twice
 * in one receipt. Cancelled or refused: nothing is added. fiscal_payload.js refuses
 * to pay a marked line without its code and sends the code to the till (tag 2000).
 */
import {MarkingScanError, scanIntoOrder} from "./marking_scan";
import {MarkingScanDialog} from "./marking_scan_dialog";
import {PosOrderline} from "@point_of_sale/app/models/pos_order_line";
import {PosStore} from "@point_of_sale/app/store/pos_store";
import {_t} from "@web/core/l10n/translation";
import {makeAwaitable} from "@point_of_sale/app/store/make_awaitable_dialog";
import {patch} from "@web/core/utils/patch";

/** {line uuid: raw code} of the order's lines that already carry a code. */
export function scannedCodes(order) {
    const codes = {};
    for (const line of order?.lines || []) {
        if (line.ru54fz_marking_code) {
            codes[line.uuid] = line.ru54fz_marking_code;
        }
    }
    return codes;
}

patch(PosStore.prototype, {
    async addLineToCurrentOrder(vals, opts = {}, configure = true) {
        const product = vals.product_id;
        const selling = vals.qty === undefined || vals.qty > 0;
        if (
            !product?.ru54fz_marked ||
            !configure ||
            !selling ||
            vals.ru54fz_marking_code
        ) {
            return super.addLineToCurrentOrder(vals, opts, configure);
        }
        const order = this.get_order();
        let code = null;
        const raw = await makeAwaitable(this.dialog, MarkingScanDialog, {
            title: _t("Marking code"),
            productName: product.display_name,
            check: (text) => {
                try {
                    code = scanIntoOrder(scannedCodes(order), "new", text);
                    return null;
                } catch (error) {
                    if (error instanceof MarkingScanError) {
                        return error.message;
                    }
                    throw error;
                }
            },
        });
        if (!raw || !code) {
            // Cancelled: a marked unit is never sold without its code
            return;
        }
        return super.addLineToCurrentOrder(
            {...vals, qty: 1, ru54fz_marking_code: code.raw},
            opts,
            configure
        );
    },
});

patch(PosOrderline.prototype, {
    can_be_merged_with(orderline) {
        // One marked unit per line: its code is the unit's identity
        if (
            this.ru54fz_marking_code ||
            orderline.ru54fz_marking_code ||
            this.product_id?.ru54fz_marked
        ) {
            return false;
        }
        return super.can_be_merged_with(orderline);
    },
});
