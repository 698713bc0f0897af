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
    "external_dependencies": {"python": ["openpyxl", "xlrd"]},
    "data": [
        "security/ir.model.access.csv",
    ],
    "installable": True,
}
