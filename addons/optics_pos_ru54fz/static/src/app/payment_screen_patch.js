import {PaymentScreen} from "@point_of_sale/app/screens/payment_screen/payment_screen";
import {_t} from "@web/core/l10n/translation";
import {patch} from "@web/core/utils/patch";
import {useState} from "@odoo/owl";

const EMAIL_RE =
    /^[^\s@<>(),;:"[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * Normalise and check the buyer contact of tag 1008 (max 64 chars):
 * an e-mail, or a Russian phone written as +7XXXXXXXXXX (8XXXXXXXXXX, spaces,
 * dashes and brackets accepted and normalised).
 * @returns {{value: string, error: string}}
 */
export function normalizeBuyerContact(raw) {
    const value = (raw || "").trim();
    if (!value) {
        return {value: "", error: ""};
    }
    if (value.includes("@")) {
        if (value.length > 64 || !EMAIL_RE.test(value)) {
            return {value, error: _t("This is not a valid e-mail address.")};
        }
        return {value, error: ""};
    }
    if (!/^[+\d\s()-]+$/.test(value)) {
        return {
            value,
            error: _t("Enter an e-mail address or a phone number as +7XXXXXXXXXX."),
        };
    }
    let digits = value.replace(/\D/g, "");
    if (digits.length === 11 && digits[0] === "8") {
        digits = "7" + digits.slice(1);
    }
    if (digits.length === 10 && digits[0] === "9") {
        digits = "7" + digits;
    }
    if (digits.length !== 11 || digits[0] !== "7") {
        return {value, error: _t("A phone number must be +7 followed by 10 digits.")};
    }
    return {value: "+" + digits, error: ""};
}

/**
 * The buyer contact the payment screen starts with: the one typed for this order, else
 * the customer's e-mail or phone.
 */
function initialBuyerContact(order) {
    const typed = order?.uiState?.ru54fzBuyerContact;
    const partner = order?.get_partner?.();
    const checked = normalizeBuyerContact(
        typed ?? (partner?.email || partner?.mobile || partner?.phone || "")
    );
    // A partner's stored contact that does not validate is not forced onto the receipt
    return checked.error && !typed ? "" : checked.value;
}

patch(PaymentScreen.prototype, {
    setup() {
        super.setup(...arguments);
        this.ru54fzContact = useState({
            value: initialBuyerContact(this.currentOrder),
            error: "",
        });
    },

    onRu54fzContactChange(ev) {
        const checked = normalizeBuyerContact(ev.target.value);
        this.ru54fzContact.value = checked.value;
        this.ru54fzContact.error = checked.error;
        ev.target.value = checked.value;
        this.currentOrder.uiState.ru54fzBuyerContact = checked.value;
    },

    async _finalizeValidation() {
        const order = this.currentOrder;
        if (this.pos.ru54fzEnabled && !order.ru54fzFiscal) {
            const checked = normalizeBuyerContact(this.ru54fzContact.value);
            if (checked.error) {
                this.ru54fzContact.error = checked.error;
                this.notification.add(checked.error, {type: "danger"});
                return;
            }
            const done = await this.pos.ru54fzFiscaliseOrder(order, {
                buyerContact: checked.value,
            });
            if (!done) {
                return;
            }
        }
        return await super._finalizeValidation(...arguments);
    },
});
