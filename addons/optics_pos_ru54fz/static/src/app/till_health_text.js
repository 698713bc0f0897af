/**
 * Cashier-facing texts of the till's health reasons.
 *
 * The till judges its health with one rule (ru54fz/till_health.py) and sends
 * `level` and `reasons: [{code, level, params}]` in its status; the POS only
 * translates each code here (Russian in i18n/ru.po). Every code the rule can
 * emit has an entry (tests/unit/posui/test_posui_till_health.py checks it
 * against the Python module). This file imports nothing but `_t`.
 */
import {_t} from "@web/core/l10n/translation";

/** Reasons that stop sales before the till is asked (till_health.BLOCKING). */
export const BLOCKING_CODES = [
    "ofd_blocked",
    "shift_expired",
    "clock_blocked",
    "journal_full",
    "fn_memory_full",
];

export const TILL_HEALTH_TEXTS = {
    device_error: (p) =>
        _t("The cash register reported a problem: %s", p.message || p.error_code || ""),
    paper_out: () => _t("The receipt printer is out of paper. Load a new roll."),
    cover_open: () => _t("The receipt printer cover is open. Close it."),
    shift_closed: () => _t("No fiscal shift is open on the cash register."),
    shift_ending: (p) =>
        _t(
            "The fiscal shift ends in %(hours)s h: a store manager should close it (Z report) soon.",
            {
                hours: p.hours_left,
            }
        ),
    shift_expired: () =>
        _t(
            "The fiscal shift is over 24 hours. A store manager must close the shift (Z report) before selling."
        ),
    fn_memory: (p) => _t("Fiscal drive memory is %(pct)s% full.", {pct: p.pct}),
    fn_memory_full: () =>
        _t(
            "The fiscal drive (FN) is full or expired: sales are impossible until it is replaced. Call the administrator."
        ),
    fn_expiry: (p) =>
        _t(
            "The fiscal drive keys expire in %(days)s days: the drive must be replaced.",
            {days: p.days}
        ),
    clock_unknown: () => _t("The cash register clock could not be read."),
    clock_skew: (p) =>
        _t("The cash register clock differs from the till clock by %s s.", p.seconds),
    clock_blocked: () =>
        _t(
            "The cash register clock differs from the till clock by more than 5 minutes. Call the administrator."
        ),
    journal_fill: (p) => _t("Till journal is %(pct)s% full.", {pct: p.pct}),
    journal_full: () => _t("Till journal is full."),
    ofd_backlog: (p) =>
        _t("The oldest document unconfirmed by the OFD is %s days old.", p.days),
    ofd_blocked: () =>
        _t(
            "The fiscal drive is blocked: documents have not been confirmed by the OFD for 30 days. Call the administrator."
        ),
    failed: (p) => _t("%s operation(s) failed on the cash register.", p.count),
    set_aside: (p) =>
        _t(
            "The central server refused %s journal entries for good: they are set aside. Call support.",
            p.count
        ),
    till_silent: (p) => _t("The till has not reported for %s minutes.", p.minutes),
    central_dead_letters: (p) =>
        _t("The OFD exchange gave up on %s document(s).", p.count),
    ofd_breaker_open: () =>
        _t("The connection to the OFD is suspended after repeated failures."),
};

/** The translated text of one reason, or null for a code this POS does not know. */
export function tillHealthText(reason) {
    const text = TILL_HEALTH_TEXTS[reason?.code];
    return text ? String(text(reason.params || {})) : null;
}
