"""Pricing of the synthesized deployment: ``python -m pricing`` (``make cost``) prints its monthly bill."""

from pricing.bill import Bill, price_deployment
from pricing.table import PriceTable, load_price_table
from pricing.usage import IDLE, STATED_LOAD, Usage

__all__ = ["IDLE", "STATED_LOAD", "Bill", "PriceTable", "Usage", "load_price_table", "price_deployment"]
