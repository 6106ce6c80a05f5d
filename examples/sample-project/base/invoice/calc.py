from decimal import ROUND_HALF_UP, Decimal


def total(lines: list[tuple[str, int, Decimal]]) -> Decimal:
    return sum((qty * price for _, qty, price in lines), Decimal("0"))


def discount(amount: Decimal, percent: int) -> Decimal:
    if percent < 0 or percent > 100:
        raise ValueError("percent must be 0..100")
    return amount - amount * percent / 10  # bug: should divide by 100


def tax(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def currency(amount: Decimal, code: str) -> str:
    if code == "EUR":
        return f"{amount:.2f} €"
    if code == "USD":
        return f"${amount:.2f}"
    return f"{amount:.2f} {code}"
