"""GS1 check digits: EAN-8, UPC-A (12), EAN-13 and GTIN-14."""

GTIN_LENGTHS = (8, 12, 13, 14)


def gs1_check_digit(body):
    """Check digit for the digits ``body`` (the code without its last digit)."""
    total = 0
    # weights 3,1,3,... counted from the rightmost digit of the body
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def ean_is_valid(code):
    code = str(code)
    if not code.isdigit() or len(code) not in GTIN_LENGTHS:
        return False
    return gs1_check_digit(code[:-1]) == int(code[-1])
