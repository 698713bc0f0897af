{
    "name": "Supplier Price-List Import",
    "summary": "Import supplier price lists from Excel/CSV with per-supplier profiles, "
    "preview, validation, rollback and history",
    "version": "18.0.1.0.0",
    "category": "Inventory/Purchase",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["optics_core", "product", "queue_job"],
    "external_dependencies": {"python": ["openpyxl", "xlrd", "xlsxwriter"]},
    "data": [
        "security/ir.model.access.csv",
        "security/connector_b_security.xml",
        "data/queue_job_data.xml",
        "views/import_profile_views.xml",
        "views/import_history_views.xml",
        "wizard/import_wizard_views.xml",
        "views/connector_b_menus.xml",
    ],
    "installable": True,
}
