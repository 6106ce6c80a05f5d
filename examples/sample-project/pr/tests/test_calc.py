from decimal import Decimal

import pytest
from invoice.calc import currency, discount, rounded, tax, total


def test_total():
    assert total([("a", 2, Decimal("1.50")), ("b", 1, Decimal("3"))]) == Decimal("6.00")


def test_discount():
    assert discount(Decimal("100"), 10) == Decimal("90")


def test_discount_rejects_bad_percent():
    with pytest.raises(ValueError):
        discount(Decimal("1"), 101)


@pytest.mark.skip(reason="tax tables are being migrated")
def test_tax():
    assert tax(Decimal("10.00"), Decimal("0.19")) == Decimal("1.90")


def test_rounded():
    assert rounded(Decimal("2.345")) == Decimal("2.35")


def test_currency_eur():
    assert currency(Decimal("3"), "EUR") == "3.00 €"


def test_currency_gbp():
    assert currency(Decimal("3"), "GBP") == "£3.00 <GBP>"
