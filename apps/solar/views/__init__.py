"""Browser pages of the energy market: the market overview and a quarter hour's page,
my orders and standing orders, my meters (readings, files, device tokens) and my trades.

Every write goes through ``services``; what a service refuses is shown on the form (with
what was typed) or as a message, never as an error page. The buttons are those the
machines of ``apps.solar.transitions`` allow now. One module per part of the site:
``market`` (overview, slots, trades), ``orders``, ``meters``, and ``community`` (the
community page's section); this package re-exports the views ``urls.py`` routes to.
"""

from .market import market, slot_cancel, slot_detail, trade_list
from .meters import (
    meter_create,
    meter_detail,
    meter_list,
    meter_retire,
    reading_create,
    reading_upload,
    token_create,
    token_revoke,
)
from .orders import order_cancel, order_change, order_create, order_list, standing_create, standing_step

__all__ = [
    "market",
    "meter_create",
    "meter_detail",
    "meter_list",
    "meter_retire",
    "order_cancel",
    "order_change",
    "order_create",
    "order_list",
    "reading_create",
    "reading_upload",
    "slot_cancel",
    "slot_detail",
    "standing_create",
    "standing_step",
    "token_create",
    "token_revoke",
    "trade_list",
]
