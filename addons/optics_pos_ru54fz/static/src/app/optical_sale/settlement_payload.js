/**
 * Contract-D payload of a receipt that pays a lab order (prepayment, hand-over balance,
 * prepayment refund). The items are the lines the lab order computed on the server
 * (optics.lab.order._get_fiscal_settlement_lines: 1214 = 1/3 with the calculated VAT rate
 * for a prepayment, 1214 = 4 with the prepaid part in 1215 for the hand-over); the POS adds
 * only how the customer pays now (cash / card / СБП, change removed).
 */
import {
    FiscalPayloadError,
    kopToStr,
    milliToStr,
    paymentKind,
    receiptHeader,
    toKop,
} from "../fiscal_payload";
import {_t} from "@web/core/l10n/translation";

/** Kopecks per payment kind actually paid (change given back in cash), always positive. */
export function paidByKind(order, sign = 1) {
    const paid = {};
    for (const p of order.payment_ids) {
        if (p.is_change || (p.is_done && !p.is_done())) {
            continue;
        }
        const amountKop = sign * toKop(p.get_amount ? p.get_amount() : p.amount);
        if (amountKop) {
            const kind = paymentKind(p.payment_method_id);
            paid[kind] = (paid[kind] || 0) + amountKop;
        }
    }
    let change = sign * toKop(order.get_change());
    if (change > 0 && paid.cash) {
        const take = Math.min(change, paid.cash);
        paid.cash -= take;
        change -= take;
    }
    return paid;
}

function itemOf(line) {
    return {
        name: String(line.name || "").slice(0, 128),
        quantity: milliToStr(line.quantity),
        price: kopToStr(line.price),
        amount: kopToStr(line.amount),
        vat_code: line.vat_code,
        payment_method: line.payment_method,
        subject: line.subject,
        measure: 0,
        barcode: line.barcode || "",
    };
}

/** A prepayment is refunded the way it was paid: no kind beyond what it brought. */
function checkRefundLikePaid(paid, settlement) {
    const original = settlement.payments || {};
    for (const [kind, kop] of Object.entries(paid)) {
        if (kop > (original[kind] || 0)) {
            throw new FiscalPayloadError(
                _t(
                    "The prepayment was paid %(cash)s in cash and %(card)s by card: refund it the same way.",
                    {
                        cash: kopToStr(original.cash || 0),
                        card: kopToStr(original.card || 0),
                    }
                )
            );
        }
    }
}

/**
 * @param {Object} order pos.order of the payment (one line of the lab-payment product)
 * @param {{stage: string, settlement: object}} info what the server computed for the stage
 * @param {Object} ctx {cashierName, cashierInn, taxSystem, buyerContact}
 */
export function buildSettlementPayload(order, info, ctx) {
    const {stage, settlement} = info;
    const isRefund = stage === "prepayment_refund";
    const paid = paidByKind(order, isRefund ? -1 : 1);
    const payments = Object.entries(paid)
        .filter(([, kop]) => kop > 0)
        .map(([kind, kop]) => ({kind, amount: kopToStr(kop)}));
    const paidNow = Object.values(paid).reduce((a, b) => a + b, 0);
    const lines = settlement.lines.map(itemOf);
    const itemsTotal = settlement.lines.reduce((a, l) => a + l.amount, 0);
    let expectedNow = itemsTotal;
    if (stage === "handover" && settlement.prepaid > 0) {
        payments.push({kind: "prepayment", amount: kopToStr(settlement.prepaid)});
        expectedNow = itemsTotal - settlement.prepaid;
    }
    if (paidNow !== expectedNow) {
        throw new FiscalPayloadError(
            _t(
                "The payments (%s) do not match the amount to pay (%s).",
                kopToStr(paidNow),
                kopToStr(expectedNow)
            )
        );
    }
    if (isRefund) {
        checkRefundLikePaid(paid, settlement);
    }
    return {
        ...receiptHeader(order, ctx, isRefund),
        lines,
        payments,
        refund_of: isRefund ? settlement.refund_of : null,
    };
}
