{
    "name": "Optics POS: 54-FZ fiscalisation",
    "summary": "Russian 54-FZ (FFD 1.2) fiscalisation for the POS: till fiscal proxy, "
               "offline journal, OFD sync with retries and dead letters, cash sessions, X/Z reports",
    "version": "18.0.1.0.0",
    "category": "Sales/Point of Sale",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["optics_core", "point_of_sale", "queue_job"],
    "external_dependencies": {"python": ["pyusb", "pyserial", "requests"]},
    "data": [
        "security/ir.model.access.csv",
        "views/pos_config_views.xml",
        "security/optics_fiscal_security.xml",
        "data/queue_job_data.xml",
        "data/ir_cron_data.xml",
        "views/optics_fiscal_document_views.xml",
        "views/optics_fiscal_dead_letter_views.xml",
        "views/optics_fiscal_till_views.xml",
        "views/optics_fiscal_pos_views.xml",
        "wizard/optics_fiscal_reason_wizard_views.xml",
        "security/optics_cash_security.xml",
        "data/optics_cash_denomination_data.xml",
        "views/optics_cash_movement_views.xml",
        "views/optics_shift_report_views.xml",
        "views/pos_session_cash_views.xml",
        "wizard/optics_cash_wizard_views.xml",
        "report/optics_shift_report_templates.xml",
    ],
    "demo": [
        "data/ru54fz_demo.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "optics_pos_ru54fz/static/src/app/**/*",
        ],
        "web.assets_tests": [
            "optics_pos_ru54fz/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
