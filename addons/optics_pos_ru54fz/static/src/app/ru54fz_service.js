/**
 * The `ru54fz` POS service: the till client plus the till's health as seen by
 * this cash desk, refreshed in the background.
 *
 * The PosStore configures it once the session data is loaded (proxy URL from
 * pos.config, pairing token handed out by the server to the session user only:
 * see models/pos_session.py, _load_pos_data). Polling never blocks the UI: one request at a
 * time, each with its own AbortController timeout.
 */
import {BLOCKING_CODES, tillHealthText} from "./till_health_text";
import {TillClient, TillError} from "./till_client";
import {_t} from "@web/core/l10n/translation";
import {reactive} from "@odoo/owl";
import {registry} from "@web/core/registry";

export const POLL_INTERVAL_MS = 15000;
// The thresholds of the till's health are the till's (ru54fz/till_health.py): the POS
// shows the level and the reasons of its status, translated in till_health_text.js

/** Why the till refused a marked item (ru54fz/marking.py MarkingRefused: its check status). */
export function markingRefusedText(error) {
    const details = error?.details || {};
    const reason = details.marking_status || details.device_code || "";
    const texts = {
        sold: _t(
            "Честный ЗНАК says this unit has already been sold: it cannot be sold again. Remove the line and take another unit."
        ),
        expired: _t(
            "The product's shelf life is over (Честный ЗНАК): it cannot be sold. Remove the line."
        ),
        blocked: _t(
            "Честный ЗНАК has blocked the sale of this product. Remove the line."
        ),
        not_found: _t(
            "Честный ЗНАК does not know this marking code: the product cannot be sold. Remove the line and call the store manager."
        ),
        duplicate: _t(
            "The same unit was scanned twice in this receipt. Remove one of the lines."
        ),
        quantity: _t(
            "A marked product is sold one unit per line, each with its own code."
        ),
    };
    return (
        texts[reason] ||
        _t(
            "The marking code check refused an item of this receipt: it cannot be sold. Remove the line."
        )
    );
}

/** The cashier-facing texts of the till/KKT error codes (codes of ru54fz/errors.py). */
function tillErrorTexts() {
    return {
        paper_out: _t(
            "The receipt printer is out of paper. Load a new roll, then press Retry."
        ),
        cover_open: _t(
            "The receipt printer cover is open. Close it, then press Retry."
        ),
        device_busy: _t(
            "The cash register is busy printing. Wait a moment, then press Retry."
        ),
        shift_expired: _t(
            "The fiscal shift is over 24 hours. A store manager must close the shift (Z report) before selling."
        ),
        shift_closed: _t("No fiscal shift is open on the cash register."),
        fn_full: _t(
            "The fiscal drive (FN) is full or expired: sales are impossible until it is replaced. Call the administrator."
        ),
        ofd_30_days: _t(
            "The fiscal drive is blocked: documents have not been confirmed by the OFD for 30 days. Call the administrator."
        ),
        clock_mismatch: _t(
            "The cash register clock differs from the till clock by more than 5 minutes. Call the administrator."
        ),
        journal_unavailable: _t(
            "The till cannot write its journal (disk full or damaged): nothing was sent to the cash register. Call the administrator."
        ),
        device_unreachable: _t(
            "The cash register does not answer. Check that it is switched on and connected, then press Retry."
        ),
        till_busy: _t(
            "Another process of the till is using the cash register right now. Press Retry: the same receipt will not be printed twice."
        ),
        device_error: _t("The cash register refused the operation."),
        conflict: _t("The operation conflicts with another fiscal document."),
        document_invalid: _t("The receipt is not valid for the fiscal drive."),
        request_invalid: _t("The till rejected the request."),
        unreachable: _t(
            "The till fiscal proxy is unreachable. Check the till PC and its network cable, then press Retry."
        ),
        timeout: _t(
            "The till did not answer in time. Press Retry: the same receipt will not be printed twice."
        ),
        not_configured: _t(
            "This point of sale has no till fiscal proxy configured (URL or pairing token missing)."
        ),
        unauthorized: _t(
            "The till refused the pairing token. Ask the administrator to pair this point of sale again."
        ),
        http_401: _t(
            "The till refused the pairing token. Ask the administrator to pair this point of sale again."
        ),
    };
}

/** The codes whose text is generic: the till's own message follows it as the detail. */
const DETAILED_CODES = [
    "conflict",
    "document_invalid",
    "request_invalid",
    "device_error",
];

/** The text of an error whose code has none, by its HTTP status. */
function statusErrorText(status, texts) {
    if (status === 401) {
        return texts.http_401;
    }
    if (status === 409) {
        return texts.conflict;
    }
    return _t("The till reported an error.");
}

/** Cashier-facing {text, detail} of a till/KKT error. */
export function tillErrorText(error) {
    const code = error?.code || "";
    const texts = tillErrorTexts();
    const text = code === "marking_refused" ? markingRefusedText(error) : texts[code];
    const detail = error?.message && !texts[code] ? error.message : "";
    return {
        text: text || statusErrorText(error?.status, texts),
        detail: detail || (DETAILED_CODES.includes(code) ? error.message : ""),
    };
}

/** The translated text of one reason of the till's status. */
function reasonText(status, reason) {
    if (reason.code === "device_error" && reason.params?.error_code) {
        // The KKT's error code has its own cashier text (the same as on a refused sale)
        const error = tillErrorText({
            code: reason.params.error_code,
            message: reason.params.message,
        });
        return error.detail ? `${error.text} ${error.detail}` : error.text;
    }
    // A code this POS does not know yet: the till's English message at the same place
    return (
        tillHealthText(reason) ||
        (status.messages || [])[status.reasons.indexOf(reason)] ||
        reason.code
    );
}

/** {messages, blockers} of a status with reason codes, each text once. */
function reasonsOf(status) {
    const messages = [];
    const blockers = [];
    for (const reason of status.reasons) {
        const text = reasonText(status, reason);
        const list = BLOCKING_CODES.includes(reason.code) ? blockers : messages;
        if (!list.includes(text)) {
            list.push(text);
        }
    }
    return {messages, blockers};
}

/** The messages of a till older than the reason codes: its English texts as they are. */
function legacyMessagesOf(status) {
    const messages = [];
    for (const m of status.messages || []) {
        const text = typeof m === "string" ? m : m.message || m.text || "";
        if (text && !messages.includes(text)) {
            messages.push(text);
        }
    }
    return messages;
}

/** The KKT's state as the badge names it: the device's mode, else the shift's state. */
function kktStateOf(status) {
    const device = status.device || {};
    return (
        device.mode_text ||
        device.state ||
        (status.shift?.open ? _t("shift open") : _t("shift closed"))
    );
}

/** The OFD backlog figures, from the OFD block of the status or else the fiscal drive's. */
function ofdMetricsOf(status) {
    const ofd = status.ofd || {};
    const fn = status.fn || {};
    return {
        ofdBacklog: ofd.backlog ?? fn.unconfirmed_count ?? 0,
        oldestAgeDays: Number(ofd.oldest_age_days ?? 0),
        oldestUnconfirmedAt:
            ofd.oldest_unconfirmed_at || fn.oldest_unconfirmed_at || null,
    };
}

/** The figures the badge's details show. */
function metricsOf(status) {
    const journal = status.journal || {};
    const fn = status.fn || {};
    return {
        kktState: kktStateOf(status),
        shiftNumber: status.shift?.number,
        journalFill: Number(journal.fill_pct ?? 0),
        fnFill: Number(fn.fn_memory_used_pct ?? 0),
        undelivered: journal.undelivered ?? 0,
        unfiscalised: journal.unfiscalised ?? 0,
        ...ofdMetricsOf(status),
        fnSerial: fn.fn_serial || "",
    };
}

/**
 * Reduce a contract-C status reply to what the badge shows: the till's own level and
 * its reasons (ru54fz/till_health.py), each translated; blocking reasons stop sales.
 * @returns {{level, messages: String[], blockers: String[], metrics: Object}}
 */
export function summarizeStatus(status) {
    const {messages, blockers} = Array.isArray(status.reasons)
        ? reasonsOf(status)
        : {messages: legacyMessagesOf(status), blockers: []};
    return {
        level: ["green", "yellow", "red"].includes(status.level) ? status.level : "red",
        messages,
        blockers,
        metrics: metricsOf(status),
    };
}

export class Ru54fzService {
    constructor() {
        this.client = new TillClient("", "");
        this.enabled = false;
        this.timer = null;
        this.inFlight = null;
        this.state = reactive({
            configured: false,
            // Null until the till has been asked once
            reachable: null,
            level: "grey",
            messages: [],
            blockers: [],
            metrics: {},
            raw: null,
            lastCheck: null,
            error: null,
        });
    }

    configure({enabled, url, token, tillCode, pollInterval = POLL_INTERVAL_MS}) {
        this.enabled = Boolean(enabled);
        this.client = new TillClient(url, token, {tillCode});
        this.state.configured = this.enabled && this.client.configured;
        this.stop();
        if (this.enabled) {
            this.refresh();
            this.timer = setInterval(() => this.refresh(), pollInterval);
        }
    }

    stop() {
        if (this.timer) {
            clearInterval(this.timer);
            this.timer = null;
        }
    }

    /** Fetch the till status; concurrent callers share one request. */
    refresh() {
        if (!this.enabled) {
            return Promise.resolve(this.state);
        }
        if (!this.inFlight) {
            this.inFlight = this._refresh().finally(() => {
                this.inFlight = null;
            });
        }
        return this.inFlight;
    }

    async _refresh() {
        try {
            const status = await this.client.status();
            const summary = summarizeStatus(status);
            Object.assign(this.state, {
                reachable: true,
                level: summary.level,
                messages: summary.messages,
                blockers: summary.blockers,
                metrics: summary.metrics,
                raw: status,
                error: null,
            });
        } catch (error) {
            if (!(error instanceof TillError)) {
                throw error;
            }
            Object.assign(this.state, {
                reachable: false,
                level: "red",
                messages: [tillErrorText(error).text],
                blockers:
                    error.code === "not_configured" ? [tillErrorText(error).text] : [],
                raw: null,
                error: {code: error.code, message: error.message, status: error.status},
            });
        } finally {
            this.state.lastCheck = new Date();
        }
        return this.state;
    }
}

export const ru54fzService = {
    dependencies: [],
    start() {
        return new Ru54fzService();
    },
};

registry.category("services").add("ru54fz", ru54fzService);
