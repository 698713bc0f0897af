/**
 * PosStore: the fiscal path of a sale and the shift actions.
 *
 * Like the Belgian/Swedish fiscal modules, a sale is signed BEFORE it is synced:
 * the payment screen waits for the till's fiscal result, stores it on the order
 * (its uuid is the idempotency key everywhere: till journal, central fiscal
 * document, pos.order), and only then lets Odoo's own sync (or its offline
 * queue) carry the order with its fiscal attributes to the server.
 */
import {FiscalPayloadError, buildReceiptPayload, kopToStr} from "./fiscal_payload";
import {ask, makeAwaitable} from "@point_of_sale/app/store/make_awaitable_dialog";
import {AlertDialog} from "@web/core/confirmation_dialog/confirmation_dialog";
import {ConnectionLostError} from "@web/core/network/rpc";
import {FiscalErrorDialog} from "./fiscal_error_dialog";
import {ManagerGrantDialog} from "./manager_grant_dialog";
import {PosStore} from "@point_of_sale/app/store/pos_store";
import {TillError} from "./till_client";
import {XReportDialog} from "./x_report_dialog";
import {_t} from "@web/core/l10n/translation";
import {patch} from "@web/core/utils/patch";
import {tillErrorText} from "./ru54fz_service";
import {uuidv4} from "@point_of_sale/utils";

/** Device errors after which a receipt may still be open on the KKT. */
const MAY_LEAVE_OPEN = new Set([
    "device_error",
    "timeout",
    "unreachable",
    "device_unreachable",
]);

/**
 * What the fiscal error dialog shows of a till or payload error: {text, detail, code,
 * retryable}. Any other error is not the till's: it is thrown again.
 */
function errorFacts(error) {
    if (error instanceof TillError) {
        const {text, detail} = tillErrorText(error);
        return {
            text,
            detail,
            code: error.code,
            // The check's verdict on a code does not change on a retry: the line must go
            retryable: error.code !== "marking_refused",
        };
    }
    if (error instanceof FiscalPayloadError) {
        return {text: error.message, detail: "", code: "", retryable: false};
    }
    throw error;
}

/** The X report's names of the KKT counters. */
function xReportLabels() {
    return {
        shift_number: _t("Shift"),
        receipts: _t("Receipts"),
        sales_count: _t("Sales"),
        sales_total: _t("Sales total"),
        refunds_count: _t("Refunds"),
        refunds_total: _t("Refunds total"),
        cash_in: _t("Cash in"),
        cash_out: _t("Cash out"),
        cash_in_drawer: _t("Cash in drawer"),
    };
}

/** [label, value, key] of the KKT counters, a nested group's counters named "group: counter". */
function flattenCounters(counters, labels) {
    const flat = [];
    for (const [key, value] of Object.entries(counters)) {
        if (value && typeof value === "object" && !Array.isArray(value)) {
            for (const [sub, subValue] of Object.entries(value)) {
                flat.push([
                    `${labels[key] || key}: ${labels[sub] || sub}`,
                    subValue,
                    key + sub,
                ]);
            }
        } else {
            flat.push([labels[key] || key, value, key]);
        }
    }
    return flat;
}

/** A counter as the X report shows it: the money counters (kopecks) in roubles. */
function counterText(key, value) {
    const isMoney =
        /total|cash|card|sum|amount|sale|refund/.test(key) &&
        !/count|number/.test(key) &&
        typeof value === "number";
    return isMoney ? kopToStr(value) : String(value);
}

patch(PosStore.prototype, {
    async afterProcessServerData() {
        const result = await super.afterProcessServerData(...arguments);
        this.ru54fz = this.env.services.ru54fz;
        if (this.ru54fzEnabled) {
            this.ru54fz.configure({
                enabled: true,
                url: this.config.ru54fz_proxy_url,
                token: this.session._ru54fz_till_token,
                tillCode: this.config.ru54fz_till_code,
                pollInterval: this.session._ru54fz_poll_interval_ms || undefined,
            });
        }
        return result;
    },

    /**
     * With the central server unreachable, a fiscalised order is already a legal receipt:
     * the payment screen must go on to the receipt, and Odoo's pending-order queue syncs
     * it later (same uuid, so once). Core would reject the promise and log an error.
     */
    async syncAllOrders(options = {}) {
        try {
            return await super.syncAllOrders(...arguments);
        } catch (error) {
            if (
                this.ru54fzEnabled &&
                options.throw &&
                error instanceof ConnectionLostError
            ) {
                console.info(
                    "54-FZ: central server unreachable, the order stays in the offline queue"
                );
                return error;
            }
            throw error;
        }
    },

    get ru54fzEnabled() {
        return Boolean(this.config.ru54fz_enabled);
    },

    get ru54fzIsManager() {
        return Boolean(this.session._ru54fz_is_store_manager);
    },

    ru54fzCashier() {
        const cashier = this.get_cashier() || this.user;
        return {
            name: (cashier?.name || this.user?.name || "").slice(0, 64),
            inn: this.session._ru54fz_cashier_inn || "",
        };
    },

    /**
     * Show a till error; resolves "retry" | "cancel_open" | "close".
     */
    async ru54fzShowError(error, {title, canRetry = true} = {}) {
        const facts = errorFacts(error);
        const answer = await makeAwaitable(this.dialog, FiscalErrorDialog, {
            title: title || _t("The receipt was not fiscalised"),
            text: facts.text,
            detail: facts.detail,
            code: facts.code,
            canRetry: canRetry && facts.retryable,
            canCancelOpen: error instanceof TillError && MAY_LEAVE_OPEN.has(error.code),
        });
        return answer || "close";
    },

    /** Refuse before touching the till when its last status says it cannot sign. */
    ru54fzSaleBlockers() {
        const state = this.ru54fz.state;
        const fresh = state.lastCheck && Date.now() - state.lastCheck.getTime() < 60000;
        return fresh && state.reachable ? [...state.blockers] : [];
    },

    /**
     * Fiscalise `order` on the KKT through the till; loops on Retry with the same
     * uuid. Returns true when the order carries its fiscal result.
     */
    async ru54fzFiscaliseOrder(order, {buyerContact = ""} = {}) {
        if (order.ru54fz_fiscal_sign) {
            return true;
        }
        const blockers = this.ru54fzSaleBlockers();
        if (blockers.length) {
            this.dialog.add(AlertDialog, {
                title: _t("Sales are stopped on this cash register"),
                body: blockers.join("\n"),
            });
            return false;
        }
        const payload = await this.ru54fzOrderPayload(order, buyerContact);
        if (!payload) {
            return false;
        }
        const attempt = {shiftOpened: false};
        for (;;) {
            this.ui.block();
            const {reply, error} = await this.ru54fz.client.receipt(payload).then(
                (value) => ({reply: value, error: null}),
                (reason) => ({reply: null, error: reason})
            );
            this.ui.unblock();
            if (!error) {
                this.ru54fzApplyResult(order, reply, payload);
                this.ru54fz.refresh();
                return true;
            }
            if (!(await this.ru54fzRetryReceipt(error, payload, attempt))) {
                return false;
            }
        }
    },

    /** The receipt payload of `order`, or null once the cashier has seen why there is none. */
    async ru54fzOrderPayload(order, buyerContact) {
        try {
            return this.ru54fzBuildPayload(order, {
                cashierName: this.ru54fzCashier().name,
                cashierInn: this.ru54fzCashier().inn,
                taxSystem: this.config.ru54fz_tax_system
                    ? Number(this.config.ru54fz_tax_system)
                    : 1,
                buyerContact,
            });
        } catch (error) {
            await this.ru54fzShowError(error);
            return null;
        }
    },

    /**
     * After the till refused the receipt: true to send it again (the shift was opened,
     * the cashier chose Retry, or the receipt left open on the KKT was cancelled).
     * `attempt` carries what was already tried for this receipt.
     */
    async ru54fzRetryReceipt(error, payload, attempt) {
        if (!(error instanceof TillError)) {
            throw error;
        }
        if (error.code === "shift_closed" && !attempt.shiftOpened) {
            // The first receipt of the day opens the fiscal shift, as on any KKT
            attempt.shiftOpened = true;
            return Boolean(await this.ru54fzOpenShift());
        }
        const isRefund = payload.operation === "refund";
        const answer = await this.ru54fzShowError(error, {
            title:
                isRefund && error.status === 409
                    ? _t("The refund is refused for now")
                    : undefined,
        });
        if (answer === "cancel_open") {
            await this.ru54fzCancelOpen({quiet: true});
            return true;
        }
        return answer === "retry";
    },

    /** Contract-D payload of `order`; overridable for receipts that are not item sales. */
    ru54fzBuildPayload(order, ctx) {
        return buildReceiptPayload(order, ctx);
    },

    ru54fzApplyResult(order, reply, payload) {
        const fiscal = reply.fiscal || {};
        const values = {
            ru54fz_uuid: reply.uuid || order.uuid,
            ru54fz_fd_number: fiscal.fd_number || 0,
            ru54fz_fiscal_sign: fiscal.fiscal_sign ? String(fiscal.fiscal_sign) : "",
            ru54fz_fn_serial: fiscal.fn_serial || "",
            ru54fz_shift_number: fiscal.shift_number || 0,
            ru54fz_qr: fiscal.qr || "",
        };
        // Only write the fields the server model has (they then travel in the order sync);
        // the local copy in uiState is what the receipt prints in any case.
        const fields = order.model?.modelFields || {};
        for (const [name, value] of Object.entries(values)) {
            if (name in fields) {
                order[name] =
                    fields[name].type === "integer" ? Number(value) || 0 : value;
            }
        }
        order.uiState.ru54fz = {
            ...values,
            fd_number: values.ru54fz_fd_number,
            fiscal_sign: values.ru54fz_fiscal_sign,
            fn_serial: values.ru54fz_fn_serial,
            shift_number: values.ru54fz_shift_number,
            qr: values.ru54fz_qr,
            doc_time: fiscal.doc_time || "",
            operation: payload.operation,
            buyer_contact: payload.buyer_contact,
        };
    },

    /**
     * A store manager's grant for a manager-only till action, from central: for the
     * logged-in user when they are a store manager, else after a store manager types
     * their login and password here (checked on the server). Null when refused or cancelled.
     */
    async ru54fzManagerGrant(action, actionLabel) {
        let kwargs = {};
        if (!this.ru54fzIsManager) {
            const credentials = await makeAwaitable(this.dialog, ManagerGrantDialog, {
                actionLabel,
            });
            if (!credentials) {
                return null;
            }
            kwargs = {login: credentials.login, password: credentials.password};
        }
        try {
            const reply = await this.data.call(
                "pos.config",
                "ru54fz_issue_manager_grant",
                [[this.config.id], action],
                kwargs
            );
            if (reply?.error) {
                // Refused by central (wrong password, not a store manager here): audited there
                this.dialog.add(AlertDialog, {
                    title: _t("Not authorised"),
                    body: reply.error,
                });
                return null;
            }
            return reply?.grant || null;
        } catch (error) {
            this.dialog.add(AlertDialog, {
                title: _t("Not authorised"),
                body:
                    error instanceof ConnectionLostError
                        ? _t(
                              "The server is unreachable: a store manager's confirmation cannot be obtained now."
                          )
                        : error.data?.message || error.message || String(error),
            });
            return null;
        }
    },

    /** Open the fiscal shift on the KKT (FD 2); true when open. */
    async ru54fzOpenShift() {
        const uuid = uuidv4();
        for (;;) {
            this.ui.block();
            try {
                await this.ru54fz.client.openShift(
                    uuid,
                    this.ru54fzCashier().name,
                    this.ru54fzCashier().inn
                );
                this.ui.unblock();
                this.notification.add(
                    _t("The fiscal shift was opened on the cash register."),
                    {
                        type: "info",
                    }
                );
                this.ru54fz.refresh();
                return true;
            } catch (error) {
                this.ui.unblock();
                if (!(error instanceof TillError)) {
                    throw error;
                }
                const answer = await this.ru54fzShowError(error, {
                    title: _t("The fiscal shift could not be opened"),
                });
                if (answer !== "retry") {
                    return false;
                }
            }
        }
    },

    async ru54fzCancelOpen({quiet = false} = {}) {
        if (!quiet) {
            const confirmed = await ask(this.dialog, {
                title: _t("Cancel the open receipt?"),
                body: _t(
                    "A receipt left open on the cash register (after a power cut or a printer fault) will be cancelled. Fiscalised receipts are never affected."
                ),
            });
            if (!confirmed) {
                return false;
            }
        }
        try {
            const reply = await this.ru54fz.client.cancelOpen();
            this.notification.add(
                reply.cancelled
                    ? _t("The open receipt was cancelled on the cash register.")
                    : _t("No receipt was open on the cash register."),
                {type: reply.cancelled ? "warning" : "info"}
            );
            this.ru54fz.refresh();
            return Boolean(reply.cancelled);
        } catch (error) {
            await this.ru54fzShowError(error, {
                title: _t("Could not cancel the open receipt"),
                canRetry: false,
            });
            return false;
        }
    },

    async ru54fzXReport() {
        const uuid = uuidv4();
        for (;;) {
            let counters = null;
            this.ui.block();
            try {
                counters = await this.ru54fz.client.xReport(
                    uuid,
                    this.ru54fzCashier().name
                );
            } catch (error) {
                this.ui.unblock();
                if (!(error instanceof TillError)) {
                    throw error;
                }
                const answer = await this.ru54fzShowError(error, {
                    title: _t("X report failed"),
                });
                if (answer === "retry") {
                    continue;
                }
                return false;
            }
            this.ui.unblock();
            let sessionData = null;
            try {
                sessionData = await this.data.call(
                    "pos.session",
                    "ru54fz_x_report_data",
                    [[this.session.id]]
                );
            } catch {
                // The KKT counters are authoritative; the session figures are a bonus
                sessionData = null;
            }
            this.dialog.add(XReportDialog, {
                rows: this.ru54fzXRows(counters, sessionData),
            });
            return counters;
        }
    },

    ru54fzXRows(reply, sessionData) {
        const counters = reply?.counters || reply || {};
        const rows = flattenCounters(counters, xReportLabels())
            .filter(
                ([, value]) =>
                    value !== null && value !== undefined && typeof value !== "object"
            )
            .map(([label, value, key]) => [label, counterText(key, value)]);
        // The session's own figures against the KKT, line by line (cash trail)
        for (const row of sessionData?.comparison || []) {
            rows.push([
                `${row.label} (${_t("session")} / KKT)`,
                `${row.session} / ${row.kkt}${row.ok ? "" : " ≠"}`,
            ]);
        }
        return rows;
    },

    /**
     * Close the fiscal shift: the Z report is printed on the KKT (journaled by the
     * till and delivered to the central server), then the back-office Z-report
     * wizard stores it and closes the POS session.
     */
    async ru54fzCloseShift() {
        if (!this.ru54fzIsManager) {
            this.dialog.add(AlertDialog, {
                title: _t("Access denied"),
                body: _t("Only a store manager can close the fiscal shift."),
            });
            return false;
        }
        const confirmed = await ask(this.dialog, {
            title: _t("Close the fiscal shift?"),
            body: _t(
                "The Z report will be printed on the cash register and no sale is possible until a new shift is opened."
            ),
            confirmLabel: _t("Close shift"),
        });
        if (!confirmed) {
            return false;
        }
        const uuid = uuidv4();
        let reply = null;
        for (;;) {
            // A fresh grant for every attempt: each is short-lived and serves this uuid only
            const grant = await this.ru54fzManagerGrant(
                "close_shift",
                _t("Close the fiscal shift")
            );
            if (!grant) {
                return false;
            }
            this.ui.block();
            try {
                reply = await this.ru54fz.client.closeShift(
                    uuid,
                    this.ru54fzCashier().name,
                    this.ru54fzCashier().inn,
                    grant
                );
                this.ui.unblock();
                break;
            } catch (error) {
                this.ui.unblock();
                if (!(error instanceof TillError)) {
                    throw error;
                }
                const answer = await this.ru54fzShowError(error, {
                    title: _t("The shift was not closed"),
                });
                if (answer !== "retry") {
                    return false;
                }
            }
        }
        this.ru54fz.refresh();
        const fiscal = reply.fiscal || reply;
        this.notification.add(
            _t("Shift %(shift)s closed: Z report FD %(fd)s.", {
                shift: fiscal.shift_number ?? "",
                fd: fiscal.fd_number ?? "",
            }),
            {type: "success"}
        );
        await this.ru54fzOpenZWizard(uuid);
        return reply;
    },

    /**
     * Hand over to the back-office Z-report flow (cash reconciliation in Z mode) once the
     * till has delivered the Z report to the server, so that the wizard adopts it
     * instead of closing the shift a second time.
     */
    async ru54fzOpenZWizard(zUuid) {
        const delivered = await this.ru54fzWaitDelivered();
        if (!delivered) {
            this.dialog.add(AlertDialog, {
                title: _t("Z report printed"),
                body: _t(
                    "The till has not yet delivered the Z report to the server (is the server reachable?). The session can be closed in the back office (Z Report & Close) once it has."
                ),
            });
            return;
        }
        const action = await this.data
            .call("pos.session", "ru54fz_action_pos_z_report", [[this.session.id]], {
                context: {ru54fz_z_uuid: zUuid},
            })
            .catch((error) => {
                if (!(error instanceof ConnectionLostError)) {
                    throw error;
                }
                this.notification.add(
                    _t(
                        "The server is unreachable: close the session in the back office later."
                    ),
                    {type: "warning"}
                );
                return null;
            });
        if (!action) {
            return;
        }
        if (action.type === "ir.actions.act_window" && !action.views) {
            action.views = [[false, action.view_mode || "form"]];
        }
        await this.action.doAction(action, {onClose: () => this.ru54fzAfterZWizard()});
    },

    /** Once the Z flow has closed the session, leave the POS like Odoo's own closing does. */
    async ru54fzAfterZWizard() {
        try {
            const [session] = await this.data.orm.read(
                "pos.session",
                [this.session.id],
                ["state"]
            );
            if (session?.state === "closed") {
                this.redirectToBackend();
            }
        } catch {
            // Server unreachable: stay in the POS, the back office will close the session
        }
    },

    /** Poll the till (browser -> till, works without the server) until nothing is undelivered. */
    async ru54fzWaitDelivered({timeoutMs = 60000, stepMs = 1000} = {}) {
        const deadline = Date.now() + timeoutMs;
        this.ui.block();
        try {
            while (Date.now() < deadline) {
                try {
                    const status = await this.ru54fz.client.status();
                    if (!status.journal || !status.journal.undelivered) {
                        return true;
                    }
                } catch (error) {
                    if (!(error instanceof TillError)) {
                        throw error;
                    }
                }
                await new Promise((resolve) => setTimeout(resolve, stepMs));
            }
            return false;
        } finally {
            this.ui.unblock();
        }
    },
});
