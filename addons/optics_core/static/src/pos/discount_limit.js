/** Refuse line discounts over the user's role limit (pos.config cashier / manager limits). */
import {AlertDialog} from "@web/core/confirmation_dialog/confirmation_dialog";
import {OrderSummary} from "@point_of_sale/app/screens/product_screen/order_summary/order_summary";
import {PosOrderline} from "@point_of_sale/app/models/pos_order_line";
import {_t} from "@web/core/l10n/translation";
import {patch} from "@web/core/utils/patch";

function discountLimit(models) {
    const user = models["res.users"].getFirst();
    const limit = user?.optics_discount_limit;
    return typeof limit === "number" ? limit : 100;
}

patch(OrderSummary.prototype, {
    _setValue(val) {
        if (this.pos.numpadMode === "discount" && val !== "remove") {
            const limit = discountLimit(this.pos.models);
            const wanted = parseFloat(String(val).replace(",", "."));
            if (!isNaN(wanted) && wanted > limit) {
                this.dialog.add(AlertDialog, {
                    title: _t("Discount not allowed"),
                    body: _t(
                        "A discount of %(wanted)s% is over your limit of %(limit)s%. Ask a store manager.",
                        {wanted, limit}
                    ),
                });
                this.numberBuffer.reset();
                return;
            }
        }
        return super._setValue(...arguments);
    },
});

patch(PosOrderline.prototype, {
    // Other paths (discount barcodes, rewards) go through set_discount: cap them as well.
    set_discount(discount) {
        super.set_discount(discount);
        const limit = discountLimit(this.models);
        if (this.discount > limit) {
            super.set_discount(limit);
        }
    },
});
