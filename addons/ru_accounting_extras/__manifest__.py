{
    "name": "Russian Accounting Extras for Optical Stores",
    "summary": "Cash accounts per store (till, safe, bank) with transfers and cash book; "
               "gross-profit and POS analytics",
    "version": "18.0.1.0.0",
    "category": "Accounting",
    "author": "OpticsERP",
    "website": "https://github.com/opticserp/opticserp",
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": ["optics_pos_ru54fz", "account"],
    "external_dependencies": {"python": ["xlsxwriter"]},
    "data": [
        "security/ir.model.access.csv",
    ],
    "installable": True,
}
