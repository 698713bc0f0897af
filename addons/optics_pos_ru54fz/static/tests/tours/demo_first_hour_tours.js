/* The first hour of the Tverskaya cashier of the demo chain (`make run`), in Russian:
 * run by tests/test_demo_db.py (TestDemoFirstHour) against the real till controller,
 * a KKT emulator process and the mock OFD.  screen(name) saves a screenshot of what the
 * cashier sees to .test-results/screenshots/demo/<name>.png. */
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as Numpad from "@point_of_sale/../tests/tours/utils/numpad_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import {registry} from "@web/core/registry";

const tours = registry.category("web_tour.tours");
// A fiscal round trip plus Odoo's order sync can take several seconds on a busy CI box
const SLOW = 60000;

function screen(name) {
    return {
        content: `screenshot ${name}`,
        trigger: "body",
        run: async () => {
            // Let fonts, images and animations settle, then wait until the test saved it
            await new Promise((resolve) => setTimeout(resolve, 400));
            console.log(`optics-screenshot:${name}`);
            for (let i = 0; i < 300; i++) {
                if ((window.__opticsShots || []).includes(name)) {
                    return;
                }
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            throw new Error(`the screenshot ${name} was not saved`);
        },
    };
}

function tillReady() {
    return {
        content: "the till status badge has heard from the KKT",
        trigger: ".o_ru54fz_status:not(.o_ru54fz_status_grey)",
        timeout: SLOW,
    };
}

function receiptFiscalised(extra = "") {
    return [
        {
            content: "the receipt is shown once the KKT has fiscalised the order",
            trigger: `.receipt-screen .pos-receipt .o_ru54fz_receipt_fiscal${extra} .o_ru54fz_fp`,
            timeout: SLOW,
        },
        {
            content: "the company's logo has loaded on the receipt",
            trigger: ".pos-receipt img.pos-receipt-logo",
            run: async () => {
                const img = document.querySelector(".pos-receipt img.pos-receipt-logo");
                for (let i = 0; i < 100 && !(img.complete && img.naturalWidth); i++) {
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
            },
        },
    ];
}

/* Type an amount on the numpad as a person does: Odoo's number buffer drops a burst of more
 * than two key presses that arrive faster than a human types. */
function typeAmount(keys) {
    return keys.split("").flatMap((key) => [
        Numpad.click(key),
        {
            content: "a human pause",
            trigger: "body",
            run: () => new Promise((r) => setTimeout(r, 250)),
        },
    ]);
}

function countNotes(label, quantity) {
    const row = `.modal div[name=count_line_ids] tr.o_data_row:has(td[name=denomination_id]:contains("${label}"))`;
    return [
        {
            content: `count the notes of ${label}`,
            trigger: `${row} td[name=quantity]`,
            run: "click",
        },
        {
            content: `${quantity} × ${label}`,
            trigger: `${row} td[name=quantity] input`,
            run: `edit ${quantity}`,
        },
    ];
}

function sell(...products) {
    return [
        ...products.map((name) => ProductScreen.clickDisplayedProduct(name)),
        ProductScreen.clickPayButton(),
    ].flat();
}

tours.add("optics_demo_first_hour_sales", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            {
                content: "cash control: the cashier counts the opening float",
                trigger: ".modal .opening-cash-section .cash-input-sub-section input",
                run: "edit 5000",
            },
            screen("01_opening_float"),
            Dialog.confirm(),
            tillReady(),
            {
                content: "the chain's optical categories",
                trigger: ".product-screen .category-button:contains(Контактные линзы)",
            },
            screen("02_products"),
            // Cash sale: 600 + 350 = 950, the buyer gives 1 000, 50 back
            sell("Футляр для очков жёсткий", "Спрей для очистки линз 30 мл"),
            PaymentScreen.clickPaymentMethod("Наличные"),
            typeAmount("1000"),
            PaymentScreen.changeIs("50"),
            screen("03_cash_payment_change"),
            PaymentScreen.clickValidate(),
            receiptFiscalised(),
            screen("04_cash_receipt"),
            ReceiptScreen.clickNextOrder(),
            // Card sale
            sell("Оправа Vogue VO5286 пластик гавана 52-17"),
            PaymentScreen.clickPaymentMethod("Банковская карта"),
            PaymentScreen.remainingIs("0"),
            PaymentScreen.clickValidate(),
            receiptFiscalised(),
            screen("05_card_receipt"),
            ReceiptScreen.clickNextOrder(),
            // Split: 200 in cash, the rest (500) by SBP
            sell("Салфетка из микрофибры", "Цепочка для очков"),
            PaymentScreen.clickPaymentMethod("Наличные"),
            typeAmount("200"),
            PaymentScreen.clickPaymentMethod("СБП"),
            PaymentScreen.remainingIs("0"),
            screen("06_split_payment"),
            PaymentScreen.clickValidate(),
            receiptFiscalised(),
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),
        ].flat(),
});

tours.add("optics_demo_first_hour_refund_x", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            tillReady(),
            // The buyer brings the case of the first sale back
            {
                content: "the actions of the product screen",
                trigger: ".product-screen .control-buttons button.ms-auto",
                run: "click",
            },
            {
                content: "refund",
                trigger:
                    ".control-buttons-modal button:has(.fa-undo):contains(Возврат)",
                run: "click",
            },
            TicketScreen.selectOrder("-0001"),
            {
                content: "the case line of the sale",
                trigger: ".ticket-screen .orderline:contains(Футляр для очков жёсткий)",
                run: "click",
            },
            ProductScreen.clickNumpad("1"),
            TicketScreen.confirmRefund(),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Наличные"),
            PaymentScreen.clickValidate(),
            receiptFiscalised(":contains(ВОЗВРАТ ПРИХОДА)"),
            screen("07_refund_receipt"),
            ReceiptScreen.clickNextOrder(),
            // More change for the drawer: 1 000 in, recorded on the KKT and in the session
            Chrome.clickMenuOption("Внести/Изъять Наличные"),
            {
                content: "cash in",
                trigger: ".modal .input-amount button.input-type:eq(0)",
                run: "click",
            },
            {
                content: "amount",
                trigger: ".modal .input-amount input",
                run: "edit 1000",
            },
            {
                content: "reason",
                trigger: ".modal textarea.cash-reason",
                run: "edit Размен из сейфа",
            },
            screen("08_cash_in"),
            Dialog.confirm(),
            {
                content: "the cash movement is registered",
                trigger: ".o_notification",
                timeout: SLOW,
            },
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
            screen("09_x_report"),
            Dialog.confirm(),
        ].flat(),
});

tours.add("optics_demo_first_hour_close", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            tillReady(),
            Chrome.clickMenuButton(),
            {
                content: "close the shift (Z report)",
                trigger: ".o_ru54fz_menu_close_shift",
                run: "click",
            },
            Dialog.confirm(),
            {
                content: "the reconciliation opens on the Z report the KKT printed",
                trigger: ".modal div[name=count_line_ids] tr.o_data_row",
                timeout: SLOW,
            },
            // The drawer holds the float 5 000 + 950 + 200 - 600 + 1 000 = 6 550: one note of
            // 5 000, one of 1 000, one of 500 and one of 50
            ...countNotes("5000 ₽", 1),
            ...countNotes("1000 ₽", 1),
            ...countNotes("500 ₽", 1),
            ...countNotes("50 ₽", 1),
            {
                content: "done counting: leave the last line",
                trigger: ".modal .modal-title",
                run: "click",
            },
            {
                content: "counted cash 6 550: no difference",
                trigger: ".modal div[name=cash_difference]:not(:contains(-))",
            },
            {
                content: "back to the top of the reconciliation",
                trigger: ".modal .modal-body",
                run: () => {
                    document.querySelector(".modal .modal-body").scrollTop = 0;
                },
            },
            screen("10_close_reconciliation"),
            {
                content:
                    "confirm: the session is reconciled and closed with the Z report",
                trigger: ".modal button[name=action_confirm]",
                run: "click",
            },
            {
                content: "the POS session is closed by the Z flow",
                trigger: "body",
                timeout: SLOW,
                run: async () => {
                    const orm = window.posmodel.data.orm;
                    for (let i = 0; i < 100; i++) {
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
