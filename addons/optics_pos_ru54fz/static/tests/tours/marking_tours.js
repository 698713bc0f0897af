/* Marked goods (Честный ЗНАК) in the POS, run by tests/test_pos_marking_tour.py against
 * the real till controller, the KKT emulator process and a mock of the permissive-mode
 * check on loopback. The cashier works in Russian; the 2D scanner is emulated as a
 * keyboard wedge (characters typed one by one, GS sent as Ctrl+], Enter at the end).
 * screen(name) saves a screenshot to .test-results/screenshots/marking/<name>.png. */
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import {registry} from "@web/core/registry";

const tours = registry.category("web_tour.tours");
const SLOW = 45000;
const GS = "\x1d";
/** The unit sold by the first tour (GTIN 04607001122333, serial 5Xq!rT8aB2cD3, crypto 93) */
export const SOLD_UNIT = `0104607001122333215Xq!rT8aB2cD3${GS}93dGVz`;
const PRODUCT = "Eye Vitamins";

function screen(name) {
    return {
        content: `screenshot ${name}`,
        trigger: "body",
        run: async () => {
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

/** What a 2D scanner in keyboard mode does: one key per character, GS as Ctrl+], Enter. */
function scan(code, content) {
    return {
        content: content || `scan the DataMatrix ${JSON.stringify(code)}`,
        trigger: ".modal .o_ru54fz_marking_input",
        run: () => {
            const input = document.querySelector(".modal .o_ru54fz_marking_input");
            input.focus();
            input.value = "";
            for (const ch of code) {
                if (ch === GS) {
                    const ev = new KeyboardEvent("keydown", {
                        key: "]",
                        code: "BracketRight",
                        ctrlKey: true,
                        bubbles: true,
                        cancelable: true,
                    });
                    input.dispatchEvent(ev);
                    if (!ev.defaultPrevented) {
                        throw new Error(
                            "the scan dialog did not take Ctrl+] as the GS separator"
                        );
                    }
                    continue;
                }
                input.dispatchEvent(
                    new KeyboardEvent("keydown", {key: ch, bubbles: true})
                );
                input.value += ch;
                input.dispatchEvent(new InputEvent("input", {data: ch, bubbles: true}));
            }
            input.dispatchEvent(
                new KeyboardEvent("keydown", {
                    key: "Enter",
                    bubbles: true,
                    cancelable: true,
                })
            );
        },
    };
}

function scanError(text) {
    return {
        content: `the scan is refused on the spot: ${text}`,
        trigger: `.modal .o_ru54fz_marking_error:contains("${text}")`,
    };
}

function addMarkedProduct() {
    return [
        ProductScreen.clickDisplayedProduct(PRODUCT),
        {
            content: "adding a marked product asks for its marking code first",
            trigger: ".modal .o_ru54fz_marking_input",
        },
    ];
}

function orderHasMarkedLines(count) {
    return {
        content: `the order has ${count} line(s) of the marked product`,
        trigger: ".product-screen",
        run: () => {
            const lines = [
                ...document.querySelectorAll(".order-container .orderline"),
            ].filter((el) => el.textContent.includes(PRODUCT));
            if (lines.length !== count) {
                throw new Error(
                    `expected ${count} line(s) of ${PRODUCT}, found ${lines.length}`
                );
            }
        },
    };
}

tours.add("ru54fz_tour_marking_sale", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            {
                content: "the till has answered",
                trigger: ".o_ru54fz_status:not(.o_ru54fz_status_grey)",
                timeout: SLOW,
            },
            ...addMarkedProduct(),
            // Cancelled: a marked unit is never added without its code
            {
                content: "cancel the scan",
                trigger: ".modal .modal-footer .btn-secondary",
                run: "click",
            },
            orderHasMarkedLines(0),
            ...addMarkedProduct(),
            // A scanner that drops the GS separators: the crypto tail runs into the serial
            scan(SOLD_UNIT.replace(GS, ""), "scan without GS separators"),
            scanError("криптохвост"),
            screen("01_scan_refused_without_gs"),
            scan(SOLD_UNIT),
            orderHasMarkedLines(1),
            // The same unit again in this receipt
            ...addMarkedProduct(),
            scan(SOLD_UNIT, "scan the same unit again"),
            scanError("уже отсканирован"),
            screen("02_same_unit_twice_refused"),
            {
                content: "cancel the second scan",
                trigger: ".modal .modal-footer .btn-secondary",
                run: "click",
            },
            orderHasMarkedLines(1),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            {
                content: "the KKT has fiscalised the receipt with the marked item",
                trigger:
                    ".receipt-screen .pos-receipt .o_ru54fz_receipt_fiscal .o_ru54fz_fp",
                timeout: SLOW,
            },
            screen("03_marked_item_receipt"),
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),
        ].flat(),
});

tours.add("ru54fz_tour_marking_sold_code", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            {
                content: "the till has answered",
                trigger: ".o_ru54fz_status:not(.o_ru54fz_status_grey)",
                timeout: SLOW,
            },
            ...addMarkedProduct(),
            // A new receipt does not know the code: the permissive-mode check at the till does
            scan(SOLD_UNIT, "scan the unit sold in the previous receipt"),
            orderHasMarkedLines(1),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            {
                content: "the till refuses the sold code with a clear Russian message",
                trigger: '.modal .o_ru54fz_error_text:contains("уже продан")',
                timeout: SLOW,
            },
            {
                content: "no Retry: the check's verdict on the code does not change",
                trigger:
                    ".modal .modal-footer:not(:has(.o_ru54fz_retry)) .o_ru54fz_close",
            },
            screen("04_sold_code_refused"),
            {
                content: "close the error",
                trigger: ".modal .modal-footer .o_ru54fz_close",
                run: "click",
            },
            PaymentScreen.isShown(),
        ].flat(),
});
