"""The clearing rule (docs/DESIGN.md) against worked examples, a plain reference
implementation kept here, and the properties a fair uniform-price double auction has:
sold = bought, no order over-filled, the price between every matched limit, the most
volume that can trade, and the same answer whatever order the rows come in."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.solar.clearing import Clearing, Order, Trade, clear


def order(key, wh, price, seq=None):
    return Order(key=key, quantity_wh=wh, limit_price=Decimal(price), seq=seq if seq is not None else key)


# --- worked examples ---------------------------------------------------------------------
def test_one_buyer_and_one_seller_meet_halfway():
    result = clear([order("b1", 500, "0.30")], [order("s1", 800, "0.20")])
    assert result == Clearing(price=Decimal("0.2500"), volume_wh=500, trades=(Trade("b1", "s1", 500),))


def test_the_walk_fills_best_prices_first_and_the_last_matched_pair_sets_the_price():
    buys = [order("b1", 300, "0.40"), order("b2", 300, "0.25"), order("b3", 300, "0.10")]
    sells = [order("s1", 200, "0.05"), order("s2", 250, "0.20"), order("s3", 400, "0.30")]
    result = clear(buys, sells)
    assert result.trades == (
        Trade("b1", "s1", 200),
        Trade("b1", "s2", 100),
        Trade("b2", "s2", 150),
    )
    # b2 (0.25) and s3 (0.30) do not cross: the last pair that traded is b2/s2.
    assert result.price == Decimal("0.2250") and result.volume_wh == 450


def test_equal_prices_go_by_creation_order():
    buys = [order("late", 100, "0.30", seq=2), order("early", 100, "0.30", seq=1)]
    result = clear(buys, [order("s", 100, "0.30")])
    assert result.trades == (Trade("early", "s", 100),)
    assert result.price == Decimal("0.3000")


def test_nothing_trades_when_the_best_buy_is_below_the_best_sell():
    assert clear([order("b", 100, "0.19")], [order("s", 100, "0.20")]) == Clearing(price=None, volume_wh=0, trades=())
    assert clear([], [order("s", 100, "0.20")]).trades == ()
    assert clear([order("b", 100, "0.20")], []).price is None


def test_the_price_is_rounded_half_even_to_four_places():
    assert clear([order("b", 1, "0.0003")], [order("s", 1, "0.0000")]).price == Decimal("0.0002")  # 0.00015
    assert clear([order("b", 1, "0.0005")], [order("s", 1, "0.0000")]).price == Decimal("0.0002")  # 0.00025
    assert clear([order("b", 1, "0.0007")], [order("s", 1, "0.0000")]).price == Decimal("0.0004")  # 0.00035


def test_when_both_orders_run_out_together_both_lists_move_on():
    result = clear([order("b1", 100, "0.5"), order("b2", 50, "0.4")], [order("s1", 100, "0.1"), order("s2", 50, "0.2")])
    assert result.trades == (Trade("b1", "s1", 100), Trade("b2", "s2", 50))
    assert result.price == Decimal("0.3000")


@pytest.mark.parametrize(
    ("wh", "price"),
    [(0, "0.1"), (-5, "0.1"), (1.5, "0.1"), (True, "0.1"), (10, "-0.01"), (10, "0.00001"), (10, "NaN")],
)
def test_an_order_the_rule_does_not_allow_is_refused(wh, price):
    with pytest.raises(ValueError, match="Order 'x'"):
        clear([Order(key="x", quantity_wh=wh, limit_price=Decimal(price), seq=1)], [order("s", 10, "0")])


def test_a_float_price_is_refused():
    with pytest.raises(ValueError, match="Decimal"):
        clear([Order(key="x", quantity_wh=10, limit_price=0.1, seq=1)], [order("s", 10, "0")])


# --- the reference implementation: the rule written as plainly as possible -----------
def reference(buys: list[Order], sells: list[Order]) -> Clearing:
    buys = sorted(buys, key=lambda o: (-o.limit_price, o.seq))
    sells = sorted(sells, key=lambda o: (o.limit_price, o.seq))
    left_buys = [o.quantity_wh for o in buys]
    left_sells = [o.quantity_wh for o in sells]
    trades, i, j, last = [], 0, 0, None
    while i < len(buys) and j < len(sells) and buys[i].limit_price >= sells[j].limit_price:
        q = min(left_buys[i], left_sells[j])
        trades.append(Trade(buys[i].key, sells[j].key, q))
        last = (buys[i].limit_price, sells[j].limit_price)
        left_buys[i] -= q
        left_sells[j] -= q
        i += left_buys[i] == 0
        j += left_sells[j] == 0
    if not trades:
        return Clearing(None, 0, ())
    price = ((last[0] + last[1]) / 2).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
    return Clearing(price, sum(t.quantity_wh for t in trades), tuple(trades))


prices = st.integers(min_value=0, max_value=5000).map(lambda n: Decimal(n).scaleb(-4))
books = st.tuples(
    st.lists(st.tuples(st.integers(1, 5000), prices), max_size=25),
    st.lists(st.tuples(st.integers(1, 5000), prices), max_size=25),
    st.randoms(use_true_random=False),
)


def _orders(rows, side):
    return [order(f"{side}{n}", wh, price, seq=n) for n, (wh, price) in enumerate(rows)]


@settings(max_examples=300, deadline=None)
@given(books)
def test_random_books_clear_as_the_reference_with_every_property_of_the_rule(book):
    buy_rows, sell_rows, rng = book
    buys, sells = _orders(buy_rows, "b"), _orders(sell_rows, "s")
    result = clear(buys, sells)
    assert result == reference(buys, sells)

    # Sold = bought, and no order over-filled.
    bought = {o.key: 0 for o in buys}
    sold = {o.key: 0 for o in sells}
    for trade in result.trades:
        assert trade.quantity_wh > 0
        bought[trade.buy] += trade.quantity_wh
        sold[trade.sell] += trade.quantity_wh
    assert sum(bought.values()) == sum(sold.values()) == result.volume_wh
    assert all(bought[o.key] <= o.quantity_wh for o in buys)
    assert all(sold[o.key] <= o.quantity_wh for o in sells)

    # Every matched buy pays no more than its limit; every matched sell gets at least its own.
    if result.trades:
        limits = {o.key: o.limit_price for o in buys + sells}
        assert all(limits[t.buy] >= result.price >= limits[t.sell] for t in result.trades)

    # The most volume any single price could clear.
    best = 0
    for p in {o.limit_price for o in buys + sells}:
        demand = sum(o.quantity_wh for o in buys if o.limit_price >= p)
        supply = sum(o.quantity_wh for o in sells if o.limit_price <= p)
        best = max(best, min(demand, supply))
    assert result.volume_wh == best

    # Determinism: the rows in any order give the same trades.
    shuffled_buys, shuffled_sells = buys[:], sells[:]
    rng.shuffle(shuffled_buys)
    rng.shuffle(shuffled_sells)
    assert clear(shuffled_buys, shuffled_sells) == result


def test_a_large_book_clears_the_same_twice():
    rng = random.Random(13)
    buys = [order(n, rng.randint(1, 4000), str(Decimal(rng.randint(0, 6000)).scaleb(-4))) for n in range(2000)]
    sells = [order(-n - 1, rng.randint(1, 4000), str(Decimal(rng.randint(0, 6000)).scaleb(-4))) for n in range(2000)]
    first = clear(buys, sells)
    assert first.volume_wh > 0 and first == clear(list(reversed(buys)), list(reversed(sells)))
