import {Component, onMounted, useRef, useState} from "@odoo/owl";
import {Dialog} from "@web/core/dialog/dialog";
import {GS} from "./marking_scan";

/**
 * Asks for the DataMatrix code of one marked unit (Честный ЗНАК), as a 2D scanner
 * types it. A scanner in keyboard mode sends the GS separator (0x1D) as Ctrl+] (the
 * ASCII control-key chord of 0x1D) or as the character itself, and ends with Enter;
 * both separators are kept in the code, Enter applies. `check(raw)` returns an error
 * text (shown here, the cashier scans again) or null; resolves with the raw code.
 */
export class MarkingScanDialog extends Component {
    static template = "optics_pos_ru54fz.MarkingScanDialog";
    static components = {Dialog};
    static props = {
        title: String,
        productName: String,
        check: Function,
        getPayload: Function,
        close: Function,
    };

    setup() {
        this.state = useState({value: "", error: ""});
        this.inputRef = useRef("input");
        onMounted(() => this.inputRef.el?.focus());
    }

    onKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            this.confirm();
        } else if (ev.ctrlKey && (ev.key === "]" || ev.code === "BracketRight")) {
            ev.preventDefault();
            this.insert(GS);
        }
    }

    insert(text) {
        const el = this.inputRef.el;
        const start = el.selectionStart ?? this.state.value.length;
        const end = el.selectionEnd ?? start;
        this.state.value =
            this.state.value.slice(0, start) + text + this.state.value.slice(end);
        el.value = this.state.value;
        el.setSelectionRange(start + text.length, start + text.length);
    }

    onInput(ev) {
        this.state.value = ev.target.value;
        this.state.error = "";
    }

    confirm() {
        const raw = this.inputRef.el ? this.inputRef.el.value : this.state.value;
        const error = this.props.check(raw);
        if (error) {
            this.state.error = error;
            this.state.value = "";
            this.inputRef.el.value = "";
            this.inputRef.el.focus();
            return;
        }
        this.props.getPayload(raw);
        this.props.close();
    }
}
