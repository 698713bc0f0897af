import {Component} from "@odoo/owl";
import {Dialog} from "@web/core/dialog/dialog";

export class XReportDialog extends Component {
    static template = "optics_pos_ru54fz.XReportDialog";
    static components = {Dialog};
    static props = {rows: Array, close: Function};
}
