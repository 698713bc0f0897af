import {Component} from "@odoo/owl";
import {Dialog} from "@web/core/dialog/dialog";

/**
 * A fiscal operation failed: say why and what to do, and let the cashier retry
 * (same uuid, so the till never prints a second receipt), cancel a receipt left
 * open on the KKT, or give up. Resolves getPayload with "retry" | "cancel_open" | "close".
 */
export class FiscalErrorDialog extends Component {
    static template = "optics_pos_ru54fz.FiscalErrorDialog";
    static components = {Dialog};
    static props = {
        title: String,
        text: String,
        detail: {type: String, optional: true},
        code: {type: String, optional: true},
        canRetry: {type: Boolean, optional: true},
        canCancelOpen: {type: Boolean, optional: true},
        getPayload: Function,
        close: Function,
    };
    static defaultProps = {canRetry: true, canCancelOpen: false, detail: "", code: ""};

    choose(answer) {
        this.props.getPayload(answer);
        this.props.close();
    }
}
