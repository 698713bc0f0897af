/**
 * A store manager confirms a manager-only till action (close shift, cash out) at the
 * cash desk with their own login and password. The POS sends them to central, which
 * checks them and the store-manager group on the server and answers with a short-lived
 * grant signed for this till and action (ru54fz/grants.py); the till verifies it.
 */
import {Component, onMounted, useRef, useState} from "@odoo/owl";
import {Dialog} from "@web/core/dialog/dialog";

export class ManagerGrantDialog extends Component {
    static template = "optics_pos_ru54fz.ManagerGrantDialog";
    static components = {Dialog};
    static props = {actionLabel: String, getPayload: Function, close: Function};

    setup() {
        this.state = useState({login: "", password: ""});
        this.loginRef = useRef("login");
        onMounted(() => this.loginRef.el?.focus());
    }

    confirm() {
        if (!this.state.login || !this.state.password) {
            return;
        }
        this.props.getPayload({login: this.state.login, password: this.state.password});
        this.props.close();
    }

    onKeydown(ev) {
        if (ev.key === "Enter") {
            this.confirm();
        }
    }
}
