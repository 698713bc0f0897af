import {Component, useState} from "@odoo/owl";
import {Dialog} from "@web/core/dialog/dialog";
import {Navbar} from "@point_of_sale/app/navbar/navbar";
import {_t} from "@web/core/l10n/translation";
import {patch} from "@web/core/utils/patch";
import {useService} from "@web/core/utils/hooks";

export class Ru54fzStatusDialog extends Component {
    static template = "optics_pos_ru54fz.StatusDialog";
    static components = {Dialog};
    static props = {close: Function};

    setup() {
        this.ru54fz = useService("ru54fz");
        useState(this.ru54fz.state);
    }

    refresh() {
        this.ru54fz.refresh();
    }
}

/** Green / yellow / red dot in the POS header; details on click. */
export class Ru54fzStatusBadge extends Component {
    static template = "optics_pos_ru54fz.StatusBadge";
    static props = {};

    setup() {
        this.ru54fz = useService("ru54fz");
        this.dialog = useService("dialog");
        this.state = useState(this.ru54fz.state);
    }

    get title() {
        const lines = [...this.state.blockers, ...this.state.messages];
        if (!lines.length) {
            return this.state.reachable
                ? _t("Cash register ready")
                : _t("Cash register status unknown");
        }
        return lines.join("\n");
    }

    openDetails() {
        this.ru54fz.refresh();
        this.dialog.add(Ru54fzStatusDialog, {});
    }
}

patch(Navbar, {
    components: {...Navbar.components, Ru54fzStatusBadge},
});
