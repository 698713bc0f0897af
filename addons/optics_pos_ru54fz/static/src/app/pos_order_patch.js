import {PosOrder} from "@point_of_sale/app/models/pos_order";
import {patch} from "@web/core/utils/patch";

/**
 * The receipt QR (tag 1196) drawn in the browser with the ZXing library the POS
 * bundle already ships: no server round trip, so it prints offline too.
 */
export function qrDataUrl(text, size = 150) {
    try {
        const writer = new window.ZXing.BrowserQRCodeSvgWriter();
        const svg = writer.write(text, size, size);
        const xml = new XMLSerializer().serializeToString(svg);
        return `data:image/svg+xml;base64,${window.btoa(unescape(encodeURIComponent(xml)))}`;
    } catch {
        return "";
    }
}

patch(PosOrder.prototype, {
    /** Fiscal attributes of the order: the local copy first, else the synced fields. */
    get ru54fzFiscal() {
        const local = this.uiState?.ru54fz;
        if (local?.fiscal_sign) {
            return local;
        }
        if (this.ru54fz_fiscal_sign) {
            return {
                fd_number: this.ru54fz_fd_number,
                fiscal_sign: this.ru54fz_fiscal_sign,
                fn_serial: this.ru54fz_fn_serial,
                shift_number: this.ru54fz_shift_number,
                qr: this.ru54fz_qr,
                operation: this._isRefundOrder() ? "refund" : "sale",
                buyer_contact: "",
                doc_time: "",
            };
        }
        return null;
    },

    export_for_printing() {
        const data = super.export_for_printing(...arguments);
        const fiscal = this.ru54fzFiscal;
        if (fiscal) {
            data.ru54fz = {
                ...fiscal,
                qr_src: fiscal.qr ? qrDataUrl(fiscal.qr) : "",
            };
        }
        return data;
    },
});
