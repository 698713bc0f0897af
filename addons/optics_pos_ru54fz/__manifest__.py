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
    ],
    "demo": [],
    "assets": {},
    "installable": True,
}
