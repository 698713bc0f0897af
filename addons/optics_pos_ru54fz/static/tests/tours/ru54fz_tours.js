/* Tours of the 54-FZ POS screens, run by tests/test_pos_tours.py against the real
 * till controller, the KKT emulator process and (for refunds) the mock OFD. */
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import {registry} from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function statusKnown() {
    return {
        content: "the status badge has heard from the till",
        trigger: ".o_ru54fz_status:not(.o_ru54fz_status_grey)",
    };
}

function sellFrameAndCleaner() {
    return [
        ProductScreen.clickDisplayedProduct("Frame Alpha"),
        ProductScreen.clickDisplayedProduct("Lens Cleaner"),
        ProductScreen.clickPayButton(),
    ];
}

// The fiscal round trip plus Odoo's order sync can take several seconds on a busy CI box
const SLOW = 45000;

function fiscalReceiptShown() {
    return [
        {
            content:
                "the receipt screen is shown once the KKT has fiscalised the order",
            trigger: ".receipt-screen .pos-receipt",
            timeout: SLOW,
        },
        {
            content: "the receipt carries the fiscal attributes (FD, FP, FN, shift)",
            trigger: ".pos-receipt .o_ru54fz_receipt_fiscal .o_ru54fz_fp",
        },
        {
            content: "the FD number is printed",
            trigger: ".pos-receipt .o_ru54fz_receipt_fiscal .o_ru54fz_fd",
        },
    ];
}

function fiscalErrorDialog(text) {
    return {
        content: `fiscal error dialog: ${text}`,
        trigger: `.modal .o_ru54fz_error_text:contains("${text}")`,
        timeout: SLOW,
    };
}

function clickDialogButton(cls) {
    return {
        content: `click ${cls} in the fiscal error dialog`,
        trigger: `.modal .modal-footer ${cls}`,
        run: "click",
    };
}

function setBuyerContact(value) {
    return {
        content: `buyer contact ${value}`,
        trigger: ".payment-screen #ru54fz_buyer_contact",
        run: `edit ${value} && press Tab`,
    };
}

tours.add("ru54fz_tour_cash_sale", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            statusKnown(),
            ...sellFrameAndCleaner(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.remainingIs("0.00"),
            PaymentScreen.clickValidate(),
            ...fiscalReceiptShown(),
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),
        ].flat(),
});

tours.add("ru54fz_tour_card_email", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...sellFrameAndCleaner(),
            PaymentScreen.clickPaymentMethod("Card"),
            setBuyerContact("not-an-email@"),
            {
                content: "a malformed e-mail is refused on the spot",
                trigger: ".o_ru54fz_buyer_contact .invalid-feedback",
            },
            setBuyerContact("8 (912) 345-67-89"),
            {
                content: "a phone is normalised to +7XXXXXXXXXX",
                trigger: ".payment-screen #ru54fz_buyer_contact:value(+79123456789)",
            },
            setBuyerContact("buyer@example.ru"),
            {
                content: "the e-mail is accepted",
                trigger: ".o_ru54fz_buyer_contact:not(:has(.invalid-feedback))",
            },
            PaymentScreen.clickValidate(),
            ...fiscalReceiptShown(),
            {
                content: "the buyer contact is on the receipt",
                trigger:
                    ".pos-receipt .o_ru54fz_receipt_fiscal:contains(buyer@example.ru)",
            },
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),
        ].flat(),
});

tours.add("ru54fz_tour_paper_out_retry", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ProductScreen.clickDisplayedProduct("Frame Alpha"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            fiscalErrorDialog("out of paper"),
            clickDialogButton(".o_ru54fz_retry"),
            ...fiscalReceiptShown(),
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),
        ].flat(),
});

/* Sale, then an attempt to refund it at once: the till refuses (409) because the
 * OFD has not confirmed the sale yet. */
tours.add("ru54fz_tour_refund_refused", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ProductScreen.clickDisplayedProduct("Frame Alpha"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ...fiscalReceiptShown(),
            ReceiptScreen.clickNextOrder(),
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrder("-0001"),
            ProductScreen.clickNumpad("1"),
            TicketScreen.confirmRefund(),
            ProductScreen.isShown(),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            {
                content: "the refund is refused while the sale is unconfirmed",
                trigger: ".modal .modal-title:contains(The refund is refused for now)",
                timeout: SLOW,
            },
            {
                content: "the saga's reason is shown",
                trigger:
                    ".modal .o_ru54fz_error_detail:contains(not yet confirmed by the OFD)",
            },
            clickDialogButton(".o_ru54fz_close"),
            {
                content:
                    "still on the payment screen: nothing was fiscalised or synced",
                trigger: ".payment-screen",
            },
        ].flat(),
});

/* Once the OFD has confirmed the sale, the same refund goes through. */
tours.add("ru54fz_tour_refund_allowed", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrder("-0001"),
            ProductScreen.clickNumpad("1"),
            TicketScreen.confirmRefund(),
            ProductScreen.isShown(),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            {
                content: "the refund receipt is fiscalised",
                timeout: SLOW,
                trigger:
                    ".pos-receipt .o_ru54fz_receipt_fiscal:contains(ВОЗВРАТ ПРИХОДА) .o_ru54fz_fp",
            },
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});

tours.add("ru54fz_tour_x_report", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            statusKnown(),
            Chrome.clickMenuButton(),
            {
                content: "X report from the menu",
                trigger: ".o_ru54fz_menu_x_report",
                run: "click",
            },
            {
                content: "the X report was printed and its counters are shown",
                trigger: ".modal .o_ru54fz_x_report td",
                timeout: SLOW,
            },
            Dialog.confirm(),
        ].flat(),
});

tours.add("ru54fz_tour_cash_in", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            statusKnown(),
            Chrome.clickMenuOption("Cash In/Out"),
            {
                content: "choose cash in",
                trigger: ".modal .input-amount button.input-type:contains(Cash In)",
                run: "click",
            },
            {
                content: "amount",
                trigger: ".modal .input-amount input",
                run: "edit 500",
            },
            {
                content: "reason",
                trigger: ".modal textarea.cash-reason",
                run: "edit float for change",
            },
            Dialog.confirm(),
            {
                content: "the cash movement is registered",
                trigger: ".o_notification:contains(Successfully made a cash)",
                timeout: SLOW,
            },
        ].flat(),
});

tours.add("ru54fz_tour_close_shift", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...sellFrameAndCleaner(),
            PaymentScreen.clickPaymentMethod("Card"),
            PaymentScreen.clickValidate(),
            ...fiscalReceiptShown(),
            ReceiptScreen.clickNextOrder(),
            Chrome.clickMenuButton(),
            {
                content: "Close Shift (Z report), for store managers",
                trigger: ".o_ru54fz_menu_close_shift",
                run: "click",
            },
            Dialog.confirm("Close shift"),
            {
                content:
                    "the back-office Z-report wizard opens for this session, on the adopted Z",
                trigger: ".modal button[name=action_confirm]:contains(Close the Shift)",
                timeout: SLOW,
            },
            {
                content:
                    "confirm: the session is reconciled and closed with the Z report",
                trigger: ".modal button[name=action_confirm]:contains(Close the Shift)",
                run: "click",
            },
            {
                content:
                    "the POS session gets closed by the Z flow (asked from the server)",
                trigger: "body",
                timeout: SLOW,
                run: async () => {
                    const orm = window.posmodel.data.orm;
                    for (let i = 0; i < 80; i++) {
                        const [session] = await orm.read(
                            "pos.session",
                            [window.posmodel.session.id],
                            ["state"]
                        );
                        if (session.state === "closed") {
                            return;
                        }
                        await new Promise((resolve) => setTimeout(resolve, 500));
                    }
                    throw new Error("the POS session was not closed by the Z flow");
                },
            },
        ].flat(),
});

/* Central server down: the sale is fiscalised on the till and queued by Odoo; it
 * lands once the server is back, exactly once. */
tours.add("ru54fz_tour_offline_sale", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            statusKnown(),
            {
                content: "the central server goes away",
                trigger: "body",
                run: () => window.dispatchEvent(new Event("offline")),
            },
            {
                content: "the POS knows it is offline",
                trigger: ".pos-rightheader .oe_status .fa-chain-broken",
            },
            ...sellFrameAndCleaner(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ...fiscalReceiptShown(),
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),
            {
                content: "the central server is back: Odoo syncs its queue",
                trigger: "body",
                run: async () => {
                    window.dispatchEvent(new Event("online"));
                    await window.posmodel.syncAllOrders({throw: true});
                },
            },
            {
                content: "nothing left to sync",
                trigger: ".pos-rightheader:not(:has(.oe_status .fa-chain-broken))",
                timeout: SLOW,
            },
            {
                content: "a second sync changes nothing (same uuid)",
                trigger: "body",
                run: async () => {
                    await window.posmodel.syncAllOrders({throw: true});
                },
            },
        ].flat(),
});

/* The KKT clock is off by more than the legal 5 minutes: the POS refuses the sale with
 * the reason before sending anything to the till. */
tours.add("ru54fz_tour_sale_refused_kkt_blocked", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            {
                content: "the badge turns red",
                trigger: ".o_ru54fz_status.o_ru54fz_status_red",
                timeout: SLOW,
            },
            ProductScreen.clickDisplayedProduct("Frame Alpha"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            {
                content: "the sale is refused with the reason",
                trigger:
                    ".modal .modal-title:contains(Sales are stopped on this cash register)",
                timeout: SLOW,
            },
            {
                content: "the reason names the clock",
                trigger: ".modal .modal-body:contains(clock)",
            },
            Dialog.confirm(),
            {
                content: "still on the payment screen",
                trigger: ".payment-screen",
            },
        ].flat(),
});

/* A cashier takes cash out: a store manager confirms at the desk with their own login and
 * password; central checks them and hands the POS a grant for the till (issue 12 item 4). */
tours.add("ru54fz_tour_cash_out_manager", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            statusKnown(),
            Chrome.clickMenuOption("Cash In/Out"),
            {
                content: "choose cash out",
                trigger: ".modal .input-amount button.input-type:contains(Cash Out)",
                run: "click",
            },
            {
                content: "amount",
                trigger: ".modal .input-amount input",
                run: "edit 200",
            },
            {
                content: "reason",
                trigger: ".modal textarea.cash-reason",
                run: "edit to the bank",
            },
            Dialog.confirm(),
            {
                content: "the store manager's confirmation is asked",
                trigger: ".modal .o_ru54fz_manager_login",
                run: "edit ru54fz_manager",
                timeout: SLOW,
            },
            {
                content: "the manager's password",
                trigger: ".modal .o_ru54fz_manager_password",
                run: "edit ru54fz_manager",
            },
            {
                content: "confirm",
                trigger: ".modal .o_ru54fz_manager_confirm",
                run: "click",
            },
            {
                content: "the cash movement is registered",
                trigger: ".o_notification:contains(Successfully made a cash)",
                timeout: SLOW,
            },
        ].flat(),
});
