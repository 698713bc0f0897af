"""Value names of the ATOL JSON tasks and the ATOL driver (libfptr10) error codes.

One table per FFD field, used in both directions: the driver writes the names,
the emulator reads them back.  Sources in docs/kkt_atol_webserver.md.
"""

#: 1199 VAT code -> ``tax.type``
TAX_TYPES = {
    1: "vat20",
    2: "vat10",
    3: "vat120",
    4: "vat110",
    5: "vat0",
    6: "none",
    7: "vat5",
    8: "vat7",
    9: "vat105",
    10: "vat107",
    11: "vat22",
    12: "vat122",
}
VAT_BY_TAX_TYPE = {v: k for k, v in TAX_TYPES.items()}

#: 1214 -> ``paymentMethod``
PAYMENT_METHODS = {
    1: "fullPrepayment",
    2: "prepayment",
    3: "advance",
    4: "fullPayment",
    5: "partialPayment",
    6: "credit",
    7: "creditPayment",
}
PAYMENT_METHOD_CODES = {v: k for k, v in PAYMENT_METHODS.items()}

#: 1212 -> ``paymentObject`` (FFD 1.2: 30/31 excise goods without/with a marking code, 32/33 goods)
PAYMENT_OBJECTS = {
    1: "commodity",
    2: "excise",
    3: "job",
    4: "service",
    5: "gamblingBet",
    6: "gamblingPrize",
    7: "lottery",
    8: "lotteryPrize",
    9: "intellectualActivity",
    10: "payment",
    11: "agentCommission",
    12: "composite",
    13: "another",
    14: "proprietaryLaw",
    15: "nonOperatingIncome",
    16: "otherContributions",
    17: "merchantTax",
    18: "resortFee",
    19: "deposit",
    20: "consumption",
    21: "soleProprietorCPIContributions",
    22: "cpiContributions",
    23: "soleProprietorCMIContributions",
    24: "cmiContributions",
    25: "csiContributions",
    26: "casinoPayment",
    27: "fundsIssuance",
    30: "exciseWithoutMarking",
    31: "exciseWithMarking",
    32: "commodityWithoutMarking",
    33: "commodityWithMarking",
}
PAYMENT_OBJECT_CODES = {v: k for k, v in PAYMENT_OBJECTS.items()}

#: 2108 -> ``measurementUnit``
MEASUREMENT_UNITS = {
    0: "piece",
    10: "gram",
    11: "kilogram",
    12: "ton",
    20: "centimeter",
    21: "decimeter",
    22: "meter",
    30: "squareCentimeter",
    31: "squareDecimeter",
    32: "squareMeter",
    40: "milliliter",
    41: "liter",
    42: "cubicMeter",
    50: "kilowattHour",
    51: "gkal",
    70: "day",
    71: "hour",
    72: "minute",
    73: "second",
    80: "kilobyte",
    81: "megabyte",
    82: "gigabyte",
    83: "terabyte",
    255: "otherUnits",
}
MEASURE_CODES = {v: k for k, v in MEASUREMENT_UNITS.items()}

#: 1055 bit -> ``taxationType``
TAXATION_TYPES = {1: "osn", 2: "usnIncome", 4: "usnIncomeOutcome", 8: "envd", 16: "esn", 32: "patent"}
TAX_SYSTEM_BITS = {v: k for k, v in TAXATION_TYPES.items()}

#: ffd.Payments field -> ``payments[].type``
PAYMENT_TYPES = {
    "cash": "cash",
    "electronic": "electronically",
    "prepayment": "prepaid",
    "credit": "credit",
    "other": "other",
}
PAYMENT_FIELDS = {v: k for k, v in PAYMENT_TYPES.items()}

#: 1054 -> receipt task type, and the correction task of the same operation
RECEIPT_TASKS = {1: "sell", 2: "sellReturn", 3: "buy", 4: "buyReturn"}
CORRECTION_TASKS = {
    1: "sellCorrection",
    2: "sellReturnCorrection",
    3: "buyCorrection",
    4: "buyReturnCorrection",
}
OPERATION_BY_TASK = {
    **{v: k for k, v in RECEIPT_TASKS.items()},
    **{v: k for k, v in CORRECTION_TASKS.items()},
}

#: 1173 -> ``correctionType``
CORRECTION_TYPES = {0: "self", 1: "instruction"}
CORRECTION_TYPE_CODES = {v: k for k, v in CORRECTION_TYPES.items()}

#: FD type (FFD 1.2 table 3) -> ``fiscalDocumentType`` of getFnDocument
DOCUMENT_TYPES = {
    1: "registration",
    2: "openShift",
    3: "receipt",
    4: "bso",
    5: "closeShift",
    6: "closeFn",
    11: "reRegistration",
    21: "ofdExchangeStatus",
    31: "receiptCorrection",
    41: "bsoCorrection",
}
FD_TYPE_CODES = {v: k for k, v in DOCUMENT_TYPES.items()}

#: Task statuses of ``GET /api/v2/requests/<uuid>``; the final ones end polling.
FINAL_STATUSES = frozenset({"ready", "error", "interrupted", "canceled"})

# --- libfptr10 error codes (the ``errorCode`` of a task result) ---------------
OK = 0
CONNECTION_DISABLED = 1
NO_CONNECTION = 2
PORT_BUSY = 3
PORT_NOT_AVAILABLE = 4
INCORRECT_DATA = 5
INTERNAL = 6
NO_REQUIRED_PARAM = 8
NOT_SUPPORTED = 11
INVALID_PARAM = 13
UNKNOWN = 15
INVALID_SUM = 16
INVALID_QUANTITY = 17
NO_PAPER = 44
COVER_OPENED = 45
PRINTER_FAULT = 46
BUSY = 55
NOT_FULLY_PAID = 66
SHIFT_EXPIRED = 68
DENIED_IN_CLOSED_SHIFT = 73
NO_CASH = 80
DENIED_IN_CLOSED_RECEIPT = 81
DENIED_IN_OPENED_RECEIPT = 82
DENIED_IN_OPENED_SHIFT = 83
FN_INVALID_FORMAT = 116
FN_FAULT = 118
FN_EXPIRED = 120
FN_OVERFLOW = 121
FN_INVALID_DATE_TIME = 122
FN_NO_MORE_DATA = 123
INVALID_MESSAGE_FROM_OFD = 138
FN_HAS_NOT_SEND_DOCUMENTS = 139
FN_SHIFT_EXPIRED = 141
INVALID_TAXATION_TYPE = 143
INVALID_TAX_TYPE = 144
#: marking: a code check is already running / none was started (JSON tasks, ФФД 1.2);
#: a position whose code was not checked and accepted first [ADOPTED code]
MARKING_CHECK_ALREADY_STARTED = 401
MARKING_CHECK_NOT_STARTED = 402
MARKING_CODE_NOT_ACCEPTED = 403

#: 2003 planned status -> ``itemEstimatedStatus``
ITEM_ESTIMATED_STATUS = {
    1: "itemPieceSold",
    2: "itemDryForSale",
    3: "itemPieceReturn",
    4: "itemDryReturn",
    255: "itemStatusUnchanged",
}
ESTIMATED_STATUS_CODES = {v: k for k, v in ITEM_ESTIMATED_STATUS.items()}
#: ``itemInfoCheckResult`` flags -> tag 2106 bits (54fz.md table of 2106)
CHECK_RESULT_BITS = (
    ("imcCheckFlag", 0),
    ("imcCheckResult", 1),
    ("imcStatusInfo", 2),
    ("imcEstimatedStatusCorrect", 3),
    ("ecrStandAloneFlag", 4),
)

#: Codes after which the outcome of the task on the KKT is unknown: the link to the
#: KKT broke while it ran (the document may or may not have been formed).
LINK_CODES = frozenset({CONNECTION_DISABLED, NO_CONNECTION, PORT_BUSY, PORT_NOT_AVAILABLE})

DESCRIPTIONS = {
    OK: "Ошибок нет",
    NO_CONNECTION: "Нет связи",
    INCORRECT_DATA: "Некорректные данные",
    INTERNAL: "Внутренняя ошибка",
    NO_REQUIRED_PARAM: "Не указан обязательный параметр",
    NOT_SUPPORTED: "Не поддерживается в данной версии",
    INVALID_PARAM: "Некорректное значение параметра",
    UNKNOWN: "Неизвестная ошибка",
    INVALID_SUM: "Неверная цена (сумма)",
    INVALID_QUANTITY: "Неверное количество",
    NO_PAPER: "Нет бумаги",
    COVER_OPENED: "Открыта крышка",
    PRINTER_FAULT: "Нет связи с принтером чеков",
    BUSY: "ККТ занята",
    NOT_FULLY_PAID: "Чек оплачен не полностью",
    SHIFT_EXPIRED: "Смена превысила 24 часа",
    DENIED_IN_CLOSED_SHIFT: "Смена закрыта - операция невозможна",
    NO_CASH: "Не хватает наличности в кассе",
    DENIED_IN_CLOSED_RECEIPT: "Чек закрыт - операция невозможна",
    DENIED_IN_OPENED_RECEIPT: "Чек открыт - операция невозможна",
    DENIED_IN_OPENED_SHIFT: "Смена открыта - операция невозможна",
    FN_INVALID_FORMAT: "Ошибка формата передачи ФН",
    FN_FAULT: "Неисправимая ошибка ФН",
    FN_EXPIRED: "Исчерпан ресурс ФН",
    FN_OVERFLOW: "Переполнение ФН",
    FN_INVALID_DATE_TIME: "Неверные дата/время в ФН",
    FN_NO_MORE_DATA: "Нет запрошенных данных",
    INVALID_MESSAGE_FROM_OFD: "Неверное сообщение от ОФД",
    FN_HAS_NOT_SEND_DOCUMENTS: "Исчерпан ресурс хранения документов для ОФД",
    FN_SHIFT_EXPIRED: "Продолжительность смены ФН более 24 часов",
    INVALID_TAXATION_TYPE: "Неверная система налогообложения",
    INVALID_TAX_TYPE: "Неверный тип налога",
    MARKING_CHECK_ALREADY_STARTED: "Проверка КМ уже запущена",
    MARKING_CHECK_NOT_STARTED: "Проверка КМ не запущена",
    MARKING_CODE_NOT_ACCEPTED: "КМ позиции не проверен или не принят",
}
