/**
 * Cash in / cash out: register the movement on the KKT first (0x50/0x51 through
 * the till, journaled there), then let Odoo record it (try_cash_in_out). Both
 * carry the same uuid, so a retry after an error never registers it twice.
 */
import {CashMovePopup} from "@point_of_sale/app/navbar/cash_move_popup/cash_move_popup";
import {TillError} from "./till_client";
import {_t} from "@web/core/l10n/translation";
import {parseFloat} from "@web/views/fields/parsers";
import {patch} from "@web/core/utils/patch";
import {toKop} from "./fiscal_payload";
import {uuidv4} from "@point_of_sale/utils";

patch(CashMovePopup.prototype, {
    ru54fzUuidFor(type, amountKop) {
        const key = `${type}:${amountKop}`;
        if (!this._ru54fzAttempt || this._ru54fzAttempt.key !== key) {
            this._ru54fzAttempt = {key, uuid: uuidv4(), registered: false};
        }
        return this._ru54fzAttempt;
    },

    async confirm() {
        if (!this.pos.ru54fzEnabled) {
            return super.confirm(...arguments);
        }
        // NaN (an empty or unreadable amount) is left to Odoo, as 0 is
        const amount = parseFloat(this.state.amount);
        if (!amount || amount < 0) {
            return super.confirm(...arguments);
        }
        const type = this.state.type;
        const attempt = this.ru54fzUuidFor(type, toKop(amount));
        let shiftOpened = false;
        while (!attempt.registered) {
            const client = this.pos.ru54fz.client;
            const cashier = this.pos.ru54fzCashier().name;
            try {
                if (type === "in") {
                    await client.cashIn(attempt.uuid, toKop(amount), cashier);
                } else {
                    // Cash out is a store manager's act: the till wants the manager's grant
                    const grant = await this.pos.ru54fzManagerGrant(
                        "cash_out",
                        _t("Cash out")
                    );
                    if (!grant) {
                        return;
                    }
                    await client.cashOut(attempt.uuid, toKop(amount), cashier, grant);
                }
                attempt.registered = true;
            } catch (error) {
                if (!(error instanceof TillError)) {
                    throw error;
                }
                if (error.code === "shift_closed" && !shiftOpened) {
                    // Cash in before the first sale of the day opens the shift, as on any KKT
                    shiftOpened = true;
                    if (await this.pos.ru54fzOpenShift()) {
                        continue;
                    }
                    return;
                }
                const answer = await this.pos.ru54fzShowError(error, {
                    title: _t(
                        "The cash movement was not registered on the cash register"
                    ),
                });
                if (answer !== "retry") {
                    return;
                }
            }
        }
        this.pos.ru54fz.refresh();
        return super.confirm(...arguments);
    },

    _prepare_try_cash_in_out_payload() {
        const args = super._prepare_try_cash_in_out_payload(...arguments);
        if (this._ru54fzAttempt?.registered) {
            // The last positional argument of try_cash_in_out is its extras
            args[args.length - 1] = {
                ...args[args.length - 1],
                ru54fz_uuid: this._ru54fzAttempt.uuid,
            };
        }
        return args;
    },
});
