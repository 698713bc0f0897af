"""Shtrih-M models and what the driver has to do differently on each of them.

The driver reads the model at connect (command FC, byte ``model``) and looks it
up here.  Everything model-dependent the driver does is in ``ModelCaps``; what
the device tells about itself beyond the model (its FFD version and its tax
calculation mode, both in its tables, located through command F7) is in
``DeviceCaps``.  docs/kkt_shtrih_protocol.md lists ``models_table()``.

Sources (the vendor's JavaPOS driver, github.com/shtrih-m/javapos_shtrih at
af0a237b, Feb 2026, read not copied):
  JP-DM   fiscalprinter/command/DeviceMetrics.java  isCashCore (16, 20, 21, 45, 46),
          isShtrihMobile (19), isShtrihNano (152), isDesktop (everything else)
  JP-PC   fiscalprinter/command/PrinterConst.java  PRINTER_MODEL_* numbers
  JP-VAT  jpos/fiscalprinter/FiscalPrinterImpl.java  getVatCodeShtrih / getVatCodeShtrihNano
  JP-TF   fiscalprinter/SMFiscalPrinterImpl.getCapOperationTagsFirst = isCashCore || isShtrihMobile;
          jpos/fiscalprinter/receipt/FSSalesReceipt.printReceiptItem sends the item's TLVs
          (FF4D) before the operation (FF46) on those, after it on the others
  NG5     github.com/shtrih-m/fr_drv_ng issue #5: "tags bound to an operation on the cash
          core (Кассовое ядро) must be sent BEFORE the operation"
"""

from dataclasses import dataclass, field

#: FFD 1199 VAT code -> FF46 tax byte on every model but the Nano [JP-VAT getVatCodeShtrih].
VAT_BYTES_STANDARD = {
    1: 0x01,
    2: 0x02,
    5: 0x04,
    6: 0x08,
    3: 0x10,
    4: 0x20,
    7: 0x81,
    8: 0x82,
    9: 0x84,
    10: 0x88,
    11: 0xCB,
    12: 0xCC,
}
#: ... and on the Shtrih-Nano-F: 22 % and 22/122 differ [JP-VAT getVatCodeShtrihNano].
VAT_BYTES_NANO = {**VAT_BYTES_STANDARD, 11: 0x90, 12: 0xA0}

#: family -> (VAT bytes, item TLVs before FF46, source)
FAMILIES = {
    "desktop": (VAT_BYTES_STANDARD, False, "JP-DM isDesktop; JP-VAT; JP-TF"),
    "nano": (VAT_BYTES_NANO, False, "JP-DM isShtrihNano; JP-VAT getVatCodeShtrihNano; JP-TF"),
    "cashcore": (VAT_BYTES_STANDARD, True, "JP-DM isCashCore; JP-TF; NG5"),
    "mobile": (VAT_BYTES_STANDARD, True, "JP-DM isShtrihMobile; JP-TF"),
}

#: FC model byte -> (name, family) [JP-PC, JP-DM].  A model not listed is a desktop device.
MODELS = {
    239: ("ШТРИХ-М-ПТК", "desktop"),
    250: ("ШТРИХ-М-ФР-К", "desktop"),
    22: ("РИТЕЙЛ-01Ф", "desktop"),
    152: ("ШТРИХ-НАНО-Ф", "nano"),
    19: ("ШТРИХ-МОБАЙЛ-Ф", "mobile"),
    16: ("Кассовое ядро (16)", "cashcore"),
    20: ("Кассовое ядро (20)", "cashcore"),
    21: ("Кассовое ядро (21)", "cashcore"),
    45: ("Кассовое ядро (45)", "cashcore"),
    46: ("Кассовое ядро (46)", "cashcore"),
}

#: FFD version values of the FFD table field (fr_drv_ng issue #236: "1209: ФФД, 0NA - 1.0,
#: 2 - 1.05, 4 - 1.2").
FFD_105, FFD_12 = 2, 4
#: Tax calculation mode, table 1 field "НАЧИСЛЕНИЕ НАЛОГОВ" (its field number comes from F7,
#: JP PrinterModelParameters.taxModeFieldNumber).  0 = VAT per operation (the FD's VAT sums are
#: the sums of the items' 1200), 1 = VAT on the receipt total per rate [ADOPTED reading].
TAX_PER_ITEM, TAX_ON_TOTAL = 0, 1


@dataclass(frozen=True)
class ModelCaps:
    model: int
    name: str
    family: str
    vat_bytes: dict = field(repr=False)
    tags_first: bool
    source: str

    def vat_byte(self, vat_code):
        return self.vat_bytes.get(vat_code)


def caps_for(model, name=""):
    """Capabilities of FC model ``model`` (``name`` = the device's own name, for display)."""
    known_name, family = MODELS.get(model, (name or f"Shtrih model {model}", "desktop"))
    vat_bytes, tags_first, source = FAMILIES[family]
    return ModelCaps(
        model=model, name=known_name, family=family, vat_bytes=vat_bytes, tags_first=tags_first, source=source
    )


@dataclass(frozen=True)
class DeviceCaps:
    """What the driver learnt at connect: the model's capabilities, the FFD version the
    KKT runs and its tax calculation mode (None when the device does not say)."""

    model: ModelCaps
    ffd_version: int = FFD_12
    tax_mode: int | None = None
    tax_mode_field: int = 0

    @property
    def ffd12(self):
        return self.ffd_version >= FFD_12

    def to_dict(self):
        return {
            "model": self.model.model,
            "model_name": self.model.name,
            "family": self.model.family,
            "tags_first": self.model.tags_first,
            "ffd_version": {FFD_105: "1.05", FFD_12: "1.2"}.get(self.ffd_version, str(self.ffd_version)),
            "tax_mode": self.tax_mode,
        }


def models_table():
    """Markdown table of the known models (for docs/kkt_shtrih_protocol.md)."""
    lines = [
        "| FC model | Name | Family | VAT byte 22 % / 22/122 | Item TLVs (FF4D) | Sources |",
        "|---|---|---|---|---|---|",
    ]
    for number in sorted(MODELS):
        caps = caps_for(number)
        lines.append(
            f"| {number} | {caps.name} | {caps.family} | 0x{caps.vat_byte(11):02X} / "
            f"0x{caps.vat_byte(12):02X} | {'before FF46' if caps.tags_first else 'after FF46'}"
            f" | {caps.source} |"
        )
    lines.append("| any other | (device name) | desktop | 0xCB / 0xCC | after FF46 | JP-DM isDesktop |")
    return "\n".join(lines)
