/**
 * Marking codes (Честный ЗНАК) on the POS side: what a 2D scanner types into the POS
 * for a DataMatrix, and the receipt rules the cashier meets before the till is asked.
 *
 *   parseMarkingCode(raw)          -> {raw, gtin, serial, cis} or throws MarkingScanError
 *   scanIntoOrder(codesByLine, lineId, raw)
 *                                  -> the parsed code; refuses a second scan of one unit
 *   missingMarkingCodes(lines)     -> the marked lines still without their code
 *
 * The same rules as the till's ru54fz/marking.py (GS1 element string, GS = 0x1D between
 * variable-length fields, GTIN check digit, serial 21, crypto tail 91/92 or 93); the
 * till checks again, this is so the cashier hears it at the scan, not at the payment.
 */
import {_t} from "@web/core/l10n/translation";

export const GS = "\x1d";
const FIXED = {"01": 14, 11: 6, 17: 6, 8005: 6, 3103: 6};
const AIS = ["8005", "3103", "240", "01", "11", "17", "21", "10", "91", "92", "93"];

export class MarkingScanError extends Error {
    constructor(message) {
        super(message);
        this.name = "MarkingScanError";
    }
}

function gtinValid(gtin) {
    const digits = gtin.split("").map(Number);
    const body = digits.slice(0, -1).reverse();
    const total = body.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 3 : 1), 0);
    return (10 - (total % 10)) % 10 === digits[digits.length - 1];
}

/** The scanned text without its line end and symbology / leading GS prefixes. */
function stripScanPrefixes(input) {
    if (typeof input !== "string" || !input.trim()) {
        throw new MarkingScanError(_t("No marking code was scanned."));
    }
    let text = input.replace(/[\r\n]+$/, "");
    for (const prefix of ["]d2", "]C1", GS]) {
        if (text.startsWith(prefix)) {
            text = text.slice(prefix.length);
        }
    }
    if (text.length > 256) {
        throw new MarkingScanError(
            _t("The marking code is longer than 256 characters.")
        );
    }
    return text;
}

/** The value of the field `ai` that starts at `pos`, and where the next field starts. */
function readField(text, ai, pos) {
    if (ai in FIXED) {
        const value = text.slice(pos, pos + FIXED[ai]);
        if (value.length !== FIXED[ai]) {
            throw new MarkingScanError(_t("The marking code is cut short."));
        }
        return {value, next: pos + FIXED[ai]};
    }
    const sep = text.indexOf(GS, pos);
    const end = sep < 0 ? text.length : sep;
    const value = text.slice(pos, end);
    if (!value) {
        throw new MarkingScanError(_t("The marking code has an empty field."));
    }
    return {value, next: end < text.length ? end + 1 : end};
}

/** {application identifier: value} of the code's fields. */
function readFields(text) {
    const fields = {};
    let pos = 0;
    while (pos < text.length) {
        const ai = AIS.find((a) => text.startsWith(a, pos));
        if (!ai) {
            throw new MarkingScanError(
                _t(
                    "This is not the DataMatrix of a marked product (it must start with 01 and 21): scan the square code with a 2D scanner."
                )
            );
        }
        const {value, next} = readField(text, ai, pos + ai.length);
        fields[ai] = value;
        pos = next;
    }
    return fields;
}

export function parseMarkingCode(input) {
    const text = stripScanPrefixes(input);
    const fields = readFields(text);
    const gtin = fields["01"];
    const serial = fields["21"];
    if (!gtin || !/^\d{14}$/.test(gtin) || !gtinValid(gtin)) {
        throw new MarkingScanError(
            _t("The marking code's product number (GTIN) is wrong: scan it again.")
        );
    }
    if (!serial) {
        throw new MarkingScanError(_t("The marking code has no serial number."));
    }
    if (!("93" in fields) && !("91" in fields && "92" in fields)) {
        throw new MarkingScanError(
            _t(
                "The marking code has no crypto tail: scan the DataMatrix itself, not a printed number."
            )
        );
    }
    return {raw: text, gtin, serial, cis: `01${gtin}21${serial}`};
}

/**
 * Record the scan of `raw` for the order line `lineId`. `codesByLine` maps line ids
 * to the raw codes already scanned in this order. The same unit (GTIN + serial) is
 * never accepted twice in one receipt, on any line.
 */
export function scanIntoOrder(codesByLine, lineId, raw) {
    const code = parseMarkingCode(raw);
    for (const [otherId, otherRaw] of Object.entries(codesByLine)) {
        if (
            String(otherId) !== String(lineId) &&
            otherRaw &&
            parseMarkingCode(otherRaw).cis === code.cis
        ) {
            throw new MarkingScanError(
                _t("This unit's code was already scanned in this receipt.")
            );
        }
    }
    codesByLine[lineId] = code.raw;
    return code;
}

/**
 * Lines that may not be paid yet: a product of a marked group without its scanned
 * code, or with more than one unit on the line (one code per unit, one unit per line).
 * `lines`: [{id, name, marked, qty, code}]
 */
export function missingMarkingCodes(lines) {
    return lines.filter(
        (line) => line.marked && (!line.code || Math.abs(line.qty) !== 1)
    );
}
