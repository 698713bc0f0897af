/**
 * Builds the POS -> till receipt payload from a POS order.
 *
 * The KKT needs, per item, a unit price after every discount (tag 1079) such that
 * price x quantity is the item sum (1043), and item sums that add up to the total
 * paid (1020 = 1031 + 1081 + ...). Odoo keeps order-level discounts and loyalty
 * rewards as separate negative lines and applies cash rounding on the total, so
 * here we fold those into the items in integer kopecks:
 *   1. negative lines (discounts, rewards) are spread over the items of the same
 *      VAT code, proportionally, largest remainder first;
 *   2. the difference between the items and what is actually paid (cash rounding)
 *      is spread the same way;
 *   3. an item whose sum is not a whole multiple of its quantity is split into two
 *      fiscal lines (n-r units at p, r units at p+1 kopeck), which is exact.
 * All arithmetic is on integers; floats only come in from the Odoo order.
 */
import {_t} from "@web/core/l10n/translation";

export class FiscalPayloadError extends Error {
    constructor(message) {
        super(message);
        this.name = "FiscalPayloadError";
    }
}

/** Float roubles -> int kopecks, robust to binary noise (1.005 -> 101). */
export function toKop(value) {
    return Math.round(Number((Number(value || 0) * 100).toFixed(4)));
}

/** Float quantity -> int thousandths (tag 1023 precision). */
export function toMilli(value) {
    return Math.round(Number((Number(value || 0) * 1000).toFixed(3)));
}

/** Int kopecks -> "1234.50" */
export function kopToStr(kop) {
    const sign = kop < 0 ? "-" : "";
    const abs = Math.abs(kop);
    return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Int thousandths -> "1.000" */
export function milliToStr(milli) {
    const sign = milli < 0 ? "-" : "";
    const abs = Math.abs(milli);
    return `${sign}${Math.trunc(abs / 1000)}.${String(abs % 1000).padStart(3, "0")}`;
}

/** Price x quantity rounded half-up to the kopeck, as the KKT does (money.line_sum). */
export function lineSum(priceKop, qtyMilli) {
    const num = priceKop * qtyMilli;
    const sign = num < 0 ? -1 : 1;
    return sign * Math.floor((Math.abs(num) + 500) / 1000);
}

/**
 * Spread `delta` kopecks over `weights` (non-negative ints) proportionally; the
 * remainder goes to the largest fractional parts. Returns an int array summing to delta.
 */
export function spread(delta, weights) {
    const total = weights.reduce((a, b) => a + b, 0);
    if (!weights.length) {
        return [];
    }
    if (total <= 0) {
        const out = weights.map(() => 0);
        out[0] = delta;
        return out;
    }
    const sign = delta < 0 ? -1 : 1;
    const abs = Math.abs(delta);
    const shares = weights.map((w, i) => {
        const exact = (abs * w) / total;
        return {i, base: Math.floor(exact), frac: exact - Math.floor(exact), w};
    });
    let rest = abs - shares.reduce((a, s) => a + s.base, 0);
    const order = [...shares].sort((a, b) => b.frac - a.frac || b.w - a.w || a.i - b.i);
    for (const s of order) {
        if (rest <= 0) {
            break;
        }
        s.base += 1;
        rest -= 1;
    }
    return shares.map((s) => sign * s.base);
}

/** FFD tag 1199 code from an account.tax-like record {ffd_vat_code, amount, amount_type}. */
export function vatCodeOfTax(tax) {
    if (!tax) {
        return 6;
    }
    if (tax.ffd_vat_code) {
        return Number(tax.ffd_vat_code);
    }
    const rate =
        tax.amount_type === "percent" || !tax.amount_type ? Number(tax.amount) : NaN;
    const byRate = {22: 11, 20: 1, 10: 2, 7: 8, 5: 7, 0: 6};
    if (rate in byRate) {
        return byRate[rate];
    }
    throw new FiscalPayloadError(
        _t(
            "Tax “%s” has no 54-FZ VAT rate (tag 1199): set it on the tax in Accounting.",
            tax.name || "?"
        )
    );
}

/** Add `delta` kopecks to the `targets` items, spread in proportion to their sums. */
function applySpread(targets, delta) {
    if (!delta) {
        return;
    }
    const parts = spread(
        delta,
        targets.map((t) => t.amountKop)
    );
    targets.forEach((t, i) => {
        t.amountKop += parts[i];
    });
}

/** Step 1: the discounts and rewards folded into the items, per VAT code where possible. */
function spreadDiscounts(items, discounts) {
    const byVat = {};
    for (const d of discounts) {
        byVat[d.vatCode] = (byVat[d.vatCode] || 0) + d.amountKop;
    }
    for (const [vat, amount] of Object.entries(byVat)) {
        let targets = items.filter(
            (it) => String(it.vatCode) === String(vat) && it.amountKop > 0
        );
        if (!targets.length) {
            targets = items.filter((it) => it.amountKop > 0);
        }
        applySpread(targets, amount);
    }
}

/** Marked goods carry their code, one unit per line; no item is discounted below zero. */
function checkItems(items) {
    for (const it of items) {
        if (it.marked && !it.markingCode) {
            throw new FiscalPayloadError(
                _t(
                    "“%s” is marked goods: scan its marking code (DataMatrix) before the payment.",
                    it.name
                )
            );
        }
        if (it.marked && it.qtyMilli !== 1000) {
            throw new FiscalPayloadError(
                _t(
                    "“%s” is marked goods: sell one unit per line, each with its own marking code.",
                    it.name
                )
            );
        }
        if (it.amountKop < 0) {
            throw new FiscalPayloadError(
                _t("The discounts on “%s” exceed its price.", it.name)
            );
        }
    }
}

/** Step 2: what was paid decides the total (cash rounding, tiny float drift). */
function spreadToPaid(items, payments) {
    const paid = payments.reduce((a, p) => a + p.amountKop, 0);
    const current = items.reduce((a, it) => a + it.amountKop, 0);
    if (paid === current) {
        return;
    }
    const targets = items.filter((it) => it.amountKop > 0);
    if (!targets.length) {
        throw new FiscalPayloadError(
            _t("The receipt total must be greater than zero.")
        );
    }
    applySpread(targets, paid - current);
}

/**
 * Step 3: exact unit prices (`it.fiscal`); fractional quantities first so that their
 * residue can be absorbed by a line counted in whole units.
 */
function priceItems(items) {
    let residue = 0;
    const fractional = items.filter((it) => it.qtyMilli % 1000 !== 0);
    for (const it of fractional) {
        const price = Math.round((it.amountKop * 1000) / it.qtyMilli);
        const sum = lineSum(price, it.qtyMilli);
        residue += it.amountKop - sum;
        it.fiscal = [{price, qtyMilli: it.qtyMilli, amountKop: sum}];
    }
    const whole = items.filter((it) => it.qtyMilli % 1000 === 0);
    if (residue) {
        const sink = [...whole].sort((a, b) => b.amountKop - a.amountKop)[0];
        if (!sink || sink.amountKop + residue < 0) {
            throw new FiscalPayloadError(
                _t(
                    "Weighed items cannot be priced to the kopeck; add the rounding by hand."
                )
            );
        }
        sink.amountKop += residue;
    }
    for (const it of whole) {
        const n = it.qtyMilli / 1000;
        const p = Math.floor(it.amountKop / n);
        const r = it.amountKop - p * n;
        it.fiscal =
            r === 0
                ? [{price: p, qtyMilli: it.qtyMilli, amountKop: it.amountKop}]
                : [
                      {price: p, qtyMilli: (n - r) * 1000, amountKop: p * (n - r)},
                      {price: p + 1, qtyMilli: r * 1000, amountKop: (p + 1) * r},
                  ];
    }
}

/** The contract-D line of one priced part `f` of the item `it`. */
function fiscalLineOf(it, f) {
    const fiscalLine = {
        name: it.name,
        quantity: milliToStr(f.qtyMilli),
        price: kopToStr(f.price),
        amount: kopToStr(f.amountKop),
        vat_code: it.vatCode,
        payment_method: 4,
        // 1212 = 33: goods with a marking code, which goes in tag 2000
        subject: it.marked ? 33 : it.subject || 1,
        measure: it.measure || 0,
        barcode: it.barcode || "",
    };
    if (it.marked) {
        fiscalLine.marking_code = it.markingCode;
    }
    return fiscalLine;
}

/**
 * Pure part: turn plain lines/payments into contract-D lines.
 *
 * @param {Object} input
 * @param {Array<{name, qtyMilli, amountKop, vatCode, barcode, subject, measure, marked, markingCode}>} input.lines
 *        item lines in the receipt's own sign (positive); amountKop may be 0; a `marked`
 *        line (Честный ЗНАК) is one unit with its scanned `markingCode` (GS kept)
 * @param {Array<{vatCode, amountKop}>} input.discounts negative adjustments (amountKop < 0)
 * @param {Array<{kind, amountKop}>} input.payments what the buyer really paid (change removed)
 * @returns {{lines: Object[], payments: Object[], totalKop: Number}}
 */
export function buildFiscalLines({lines, discounts = [], payments}) {
    const items = lines.map((l) => ({...l}));
    if (!items.length) {
        throw new FiscalPayloadError(_t("The receipt has no items."));
    }
    spreadDiscounts(items, discounts);
    checkItems(items);
    spreadToPaid(items, payments);
    priceItems(items);
    const out = items.flatMap((it) =>
        it.fiscal.filter((f) => f.qtyMilli > 0).map((f) => fiscalLineOf(it, f))
    );
    const totalKop = out.reduce((a, l) => a + toKop(l.amount), 0);
    return {
        lines: out,
        payments: payments
            .filter((p) => p.amountKop > 0)
            .map((p) => ({kind: p.kind, amount: kopToStr(p.amountKop)})),
        totalKop,
    };
}

/** The 54-FZ payment kind of a pos.payment.method. */
export function paymentKind(method) {
    if (method.is_cash_count) {
        return "cash";
    }
    if (method.type === "pay_later") {
        return "credit";
    }
    return "card";
}

/** The original sale a refund order refunds, or null for a sale. */
export function refundedOrderOf(order) {
    const originals = new Set();
    for (const line of order.lines) {
        const orig = line.refunded_orderline_id?.order_id;
        if (orig) {
            originals.add(orig);
        }
    }
    if (originals.size > 1) {
        throw new FiscalPayloadError(
            _t(
                "A refund must refund lines of one receipt only: make one refund per receipt."
            )
        );
    }
    return originals.size ? [...originals][0] : null;
}

/** The contract-D item of a POS order line sold (quantity and sum in the receipt's sign). */
function itemOfLine(line, qtyMilli, amountKop, vatCode) {
    const product = line.get_product();
    const name = line.get_full_product_name() || product.display_name || "";
    return {
        name: name.slice(0, 128),
        qtyMilli,
        amountKop,
        vatCode,
        barcode: product.barcode || "",
        subject: product.type === "service" ? 4 : 1,
        measure: product.to_weight ? 11 : 0,
        marked: Boolean(product.ru54fz_marked),
        // A refund carries the code of the unit sold (marking_pos.js keeps it on the line)
        markingCode:
            line.ru54fz_marking_code ||
            line.refunded_orderline_id?.ru54fz_marking_code ||
            "",
    };
}

/** {lines, discounts} of `order` for buildFiscalLines, in the receipt's own sign. */
function itemsOfOrder(order, sign) {
    const lines = [];
    const discounts = [];
    for (const line of order.lines) {
        const qtyMilli = sign * toMilli(line.get_quantity());
        const amountKop = sign * toKop(line.get_price_with_tax());
        const taxes =
            line._getProductTaxesAfterFiscalPosition?.() || line.tax_ids || [];
        const vatCode = vatCodeOfTax(taxes.find((t) => t.ffd_vat_code) || taxes[0]);
        if (qtyMilli < 0) {
            // A returned item inside a sale (or a sold item inside a refund)
            throw new FiscalPayloadError(
                _t(
                    "One receipt cannot both sell and refund: make the refund of “%s” a separate order.",
                    line.get_full_product_name()
                )
            );
        }
        if (qtyMilli > 0 && amountKop < 0) {
            // Order discount, loyalty reward: folded into the items below
            discounts.push({vatCode, amountKop});
        } else if (qtyMilli > 0) {
            lines.push(itemOfLine(line, qtyMilli, amountKop, vatCode));
        }
    }
    return {lines, discounts};
}

/** What was really paid per payment kind ([{kind, amountKop}]), change given back in cash. */
function paymentsOfOrder(order, sign) {
    const payments = [];
    for (const p of order.payment_ids) {
        if (p.is_change || (p.is_done && !p.is_done())) {
            continue;
        }
        const amountKop = sign * toKop(p.get_amount ? p.get_amount() : p.amount);
        if (amountKop) {
            payments.push({kind: paymentKind(p.payment_method_id), amountKop});
        }
    }
    let change = toKop(order.get_change());
    for (const p of payments
        .filter((x) => x.kind === "cash")
        .sort((a, b) => b.amountKop - a.amountKop)) {
        const take = Math.min(change, p.amountKop);
        p.amountKop -= take;
        change -= take;
    }
    const merged = {};
    for (const p of payments) {
        merged[p.kind] = (merged[p.kind] || 0) + p.amountKop;
    }
    return Object.entries(merged).map(([kind, amountKop]) => ({kind, amountKop}));
}

/** The fields of a receipt payload that do not depend on its items and payments. */
export function receiptHeader(order, ctx, isRefund) {
    return {
        uuid: order.uuid,
        pos_reference: order.pos_reference || order.name || "",
        operation: isRefund ? "refund" : "sale",
        cashier: {name: ctx.cashierName || "", inn: ctx.cashierInn || ""},
        buyer_contact: ctx.buyerContact || "",
        tax_system: ctx.taxSystem || 1,
    };
}

/** The refund_of of a refund of the POS order `original` (its fiscal document). */
function refundOfOrder(original) {
    if (!original) {
        throw new FiscalPayloadError(
            _t("A refund must be made from the original receipt (Orders → Refund).")
        );
    }
    return {
        uuid: original.ru54fz_uuid || original.uuid,
        fiscal_sign: original.ru54fz_fiscal_sign
            ? Number(original.ru54fz_fiscal_sign)
            : null,
        fd_number: original.ru54fz_fd_number ? Number(original.ru54fz_fd_number) : null,
    };
}

/**
 * POS receipt payload from a POS order (Odoo 18 pos.order record).
 * @param {Object} order pos.order record
 * @param {Object} ctx {cashierName, cashierInn, taxSystem, buyerContact}
 */
export function buildReceiptPayload(order, ctx) {
    const original = refundedOrderOf(order);
    const isRefund = Boolean(original) || order.get_total_with_tax() < 0;
    const sign = isRefund ? -1 : 1;
    const {lines, discounts} = itemsOfOrder(order, sign);
    const payments = paymentsOfOrder(order, sign);
    const expected =
        sign * toKop(order.get_total_with_tax() + order.get_rounding_applied());
    const paid = payments.reduce((a, p) => a + p.amountKop, 0);
    if (paid !== expected) {
        throw new FiscalPayloadError(
            _t(
                "The payments (%s) do not match the total to pay (%s).",
                kopToStr(paid),
                kopToStr(expected)
            )
        );
    }
    const built = buildFiscalLines({lines, discounts, payments});
    return {
        ...receiptHeader(order, ctx, isRefund),
        lines: built.lines,
        payments: built.payments,
        refund_of: isRefund ? refundOfOrder(original) : null,
    };
}
