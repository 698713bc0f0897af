{
    "name": "Optics Core",
    "summary": "Optical chain: stores and roles, prescriptions, lens and frame catalog, lab orders",
    "version": "18.0.1.0.0",
    "category": "Sales/Point of Sale",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["point_of_sale", "mail"],
    "data": [
        "security/optics_security.xml",
        "security/optics_lab_security.xml",
        "security/ir.model.access.csv",
        "data/optics_lab_data.xml",
        "views/optics_store_views.xml",
        "views/optics_prescription_views.xml",
        "views/optics_lab_order_views.xml",
        "views/optics_catalog_views.xml",
        "report/optics_reports.xml",
        "views/optics_menus.xml",
        "views/optics_core_menus.xml",
    ],
    "demo": [
        "data/optics_demo_chain.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "optics_core/static/src/pos/**/*",
        ],
    },
    "application": True,
    "installable": True,
}
