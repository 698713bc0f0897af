/* Tours of the optical sale (tests/test_optical_sale.py): run against the real till controller,
 * the KKT emulator process and the mock OFD. */
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import {registry} from "@web/core/registry";

const tours = registry.category("web_tour.tours");
const SLOW = 45000;

function openGlasses() {
    return [
        {
            content: "open the optical sale",
            trigger: ".pos-rightheader .o_optics_sale_button",
            run: "click",
        },
        {content: "the optical sale screen is shown", trigger: ".o_optics_sale_screen"},
    ];
}

/** Ask the test to save a screenshot of the POS as it is now (tests/test_optical_sale.py). */
function shot(name) {
    return {
        content: `screenshot ${name}`,
        trigger: "body",
        run: async () => {
            console.log(`optics-screenshot:${name}`);
            await new Promise((resolve) => setTimeout(resolve, 500));
        },
    };
}

function click(trigger, content) {
    return {content: content || `click ${trigger}`, trigger, run: "click"};
}

function edit(trigger, value) {
    return {content: `${trigger} = ${value}`, trigger, run: `edit ${value}`};
}

function newCustomerWithRx(phone, name) {
    return [
        ...openGlasses(),
        edit(".o_optics_phone", phone),
        click(".o_optics_search_customer"),
        {content: "nobody has this phone yet", trigger: ".o_optics_no_customer"},
        edit(".o_optics_customer_name", name),
        edit(".o_optics_customer_email", "anna@example.ru"),
        click(".o_optics_sms_consent"),
        click(".o_optics_create_customer"),
        {
            content: "the new customer is selected",
            trigger: `.o_optics_customer_title:contains(${name})`,
        },
        click(".o_optics_new_rx"),
        edit(".o_optics_rx_od_sph", "-2.30"),
        edit(".o_optics_rx_od_cyl", "-0.50"),
        edit(".o_optics_rx_od_axis", "180"),
        edit(".o_optics_rx_os_sph", "-2.00"),
        edit(".o_optics_rx_pd_far", "63"),
        click(".o_optics_save_rx"),
        {
            content:
                "the back office's rule refuses a SPH off the 0.25 grid, with the allowed range",
            trigger: ".o_optics_error:contains(0.25)",
        },
        shot("prescription_refused"),
        edit(".o_optics_rx_od_sph", "-2.25"),
        click(".o_optics_save_rx"),
        {
            content: "the prescription is saved and valid",
            trigger: ".o_optics_rx .o_optics_rx_valid",
        },
        shot("customer_with_prescription"),
    ];
}

function orderGlasses(prepayment, {coating = false} = {}) {
    return [
        click(".o_optics_new_order"),
        {
            content: "frames of the store",
            trigger: ".o_optics_frame",
            run: "selectByLabel Frame Ray 52-18",
        },
        {
            content:
                "a design whose range cannot make this prescription is listed with its range",
            trigger:
                ".o_optics_unmakeable_design[data-design='Narrow SV 1.50']:contains(-1.00 … +1.00)",
        },
        {
            content: "and is not offered for the eye",
            trigger: ".o_optics_design_od:not(:has(option:contains(Narrow SV)))",
        },
        {
            content: "OD design",
            trigger: ".o_optics_design_od",
            run: "selectByLabel Clear SV 1.60",
        },
        {
            content: "OS design",
            trigger: ".o_optics_design_os",
            run: "selectByLabel Clear SV 1.60",
        },
        ...(coating ? [click(".o_optics_coating", "anti-reflective coating")] : []),
        edit(".o_optics_prepayment", prepayment),
        click(".o_optics_create_order"),
        {
            content: "the lab order is confirmed",
            trigger: ".o_optics_created .o_optics_created_name",
        },
        {
            content: "with its promised date",
            trigger: ".o_optics_created .o_optics_promised_date:not(:empty)",
        },
        {
            content: "the job ticket can be printed",
            trigger:
                ".o_optics_created .o_optics_ticket[href*='report_lab_order_ticket']",
        },
        shot("order_created"),
        click(".o_optics_created .o_optics_pay_prepayment", "take the prepayment"),
        {content: "payment screen for the prepayment", trigger: ".payment-screen"},
    ];
}

function fiscalReceipt() {
    return [
        {
            content: "fiscalised",
            trigger:
                ".receipt-screen .pos-receipt .o_ru54fz_receipt_fiscal .o_ru54fz_fp",
            timeout: SLOW,
        },
        shot("receipt"),
        ReceiptScreen.clickNextOrder(),
        ProductScreen.isShown(),
    ];
}

tours.add("optics_sale_tour_order_prepay", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...newCustomerWithRx("8 916 555-44-33", "Anna Petrova"),
            ...orderGlasses("3000", {coating: true}),
            PaymentScreen.clickPaymentMethod("Cash"),
            {
                content: "cash payment 1000",
                trigger: ".payment-screen .paymentline.selected",
                run: async () => {
                    const order = window.posmodel.get_order();
                    order.payment_ids[0].set_amount(1000);
                },
            },
            PaymentScreen.clickPaymentMethod("Card"),
            PaymentScreen.remainingIs("0.00"),
            shot("prepayment_cash_and_card"),
            PaymentScreen.clickValidate(),
            {
                content:
                    "the printed receipt shows the advance items with their calculated VAT rate",
                trigger:
                    ".pos-receipt .o_optics_receipt_items:contains(АВАНС):contains(НДС 22/122)",
                timeout: SLOW,
            },
            ...fiscalReceipt(),
        ].flat(),
});

tours.add("optics_sale_tour_handover", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...openGlasses(),
            click(".o_optics_tab_handover"),
            edit(".o_optics_order_query", "+7 916 555 44 33"),
            click(".o_optics_search_order"),
            {
                content: "the order is ready",
                trigger: ".o_optics_lab_order .o_optics_lab_state[data-state='ready']",
            },
            click(
                ".o_optics_lab_order .o_optics_issue",
                "try to issue with the balance unpaid"
            ),
            {
                content: "refused while anything is due",
                trigger: ".o_optics_error:contains(not paid)",
            },
            shot("handover_refused_while_due"),
            click(".o_optics_lab_order .o_optics_pay_balance", "take the balance"),
            {content: "payment screen for the balance", trigger: ".payment-screen"},
            PaymentScreen.clickPaymentMethod("Card"),
            PaymentScreen.remainingIs("0.00"),
            PaymentScreen.clickValidate(),
            {
                content:
                    "the printed receipt shows the full settlement of the kit, the prepayment offset",
                trigger:
                    ".pos-receipt .o_optics_receipt_items:contains(ПОЛНЫЙ РАСЧЕТ) .o_optics_receipt_prepaid",
                timeout: SLOW,
            },
            ...fiscalReceipt(),
        ].flat(),
});

tours.add("optics_sale_tour_prepay_cash", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...newCustomerWithRx("+7 916 777-00-11", "Boris Ivanov"),
            ...orderGlasses("2000"),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.remainingIs("0.00"),
            PaymentScreen.clickValidate(),
            ...fiscalReceipt(),
        ].flat(),
});

tours.add("optics_sale_tour_refund", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...openGlasses(),
            click(".o_optics_tab_handover"),
            edit(".o_optics_order_query", "89167770011"),
            click(".o_optics_search_order"),
            {
                content: "the order is cancelled",
                trigger:
                    ".o_optics_lab_order .o_optics_lab_state[data-state='cancelled']",
            },
            click(".o_optics_lab_order .o_optics_refund", "refund the prepayment"),
            {content: "payment screen for the refund", trigger: ".payment-screen"},
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.remainingIs("0.00"),
            PaymentScreen.clickValidate(),
            ...fiscalReceipt(),
        ].flat(),
});

function goOffline() {
    return [
        {
            content: "the central server goes away",
            trigger: "body",
            run: () => window.dispatchEvent(new Event("offline")),
        },
        {
            content: "the POS knows it is offline",
            trigger: ".pos-rightheader .oe_status .fa-chain-broken",
        },
    ];
}

tours.add("optics_sale_tour_offline", {
    test: true,
    steps: () =>
        [
            Chrome.startPoS(),
            ...openGlasses(),
            click(".o_optics_tab_handover"),
            edit(".o_optics_order_query", "+7 916 333-22-11"),
            click(".o_optics_search_order"),
            {
                content: "the confirmed order is loaded",
                trigger:
                    ".o_optics_lab_order .o_optics_lab_state[data-state='confirmed']",
            },
            {
                content: "the ready order is loaded",
                trigger: ".o_optics_lab_order .o_optics_lab_state[data-state='ready']",
            },
            ...goOffline(),
            click(".o_optics_tab_customer"),
            edit(".o_optics_phone", "+7 916 444-00-00"),
            click(".o_optics_search_customer"),
            {
                content:
                    "offline limit: no customer search, new customer, prescription or order",
                trigger: ".o_optics_error:contains(central server is unreachable)",
            },
            click(".o_optics_tab_handover"),
            edit(".o_optics_order_query", "+7 916 333-22-11"),
            click(".o_optics_search_order"),
            {
                content: "the loaded orders are found offline",
                trigger: ".o_optics_info:contains(Offline)",
            },
            shot("offline_loaded_orders"),
            click(
                ".o_optics_lab_order .o_optics_pay_prepayment",
                "offline prepayment of the order loaded"
            ),
            {content: "payment screen", trigger: ".payment-screen"},
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.remainingIs("0.00"),
            PaymentScreen.clickValidate(),
            ...fiscalReceipt(),
            ...openGlasses(),
            click(".o_optics_tab_handover"),
            edit(".o_optics_order_query", "+7 916 333-22-11"),
            click(".o_optics_search_order"),
            click(
                ".o_optics_lab_order .o_optics_pay_balance",
                "offline hand-over of the ready order loaded"
            ),
            {content: "payment screen", trigger: ".payment-screen"},
            PaymentScreen.clickPaymentMethod("Card"),
            PaymentScreen.remainingIs("0.00"),
            PaymentScreen.clickValidate(),
            ...fiscalReceipt(),
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
        ].flat(),
});
