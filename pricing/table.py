"""The price table (``prices.toml``): AWS list prices per region, with their source and date."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.toml")


class UnknownPrice(LookupError):
    """No figure for this price in this region: the bill names it instead of pricing it as free."""

    def __init__(self, key: str, region: str) -> None:
        super().__init__(f"no price {key!r} for region {region!r}")
        self.key = key
        self.region = region


@dataclass(frozen=True)
class PriceTable:
    """List prices by key and region; ``global`` is a figure that is the same in every region."""

    prices: dict[str, Any]
    sources: dict[str, str]
    written: str
    currency: str
    hours_per_month: float

    def get(self, key: str, region: str, variant: str | None = None) -> float:
        """The price of ``key`` (or of ``key``'s ``variant``, e.g. an instance class) in ``region``."""
        entry = self.prices.get(key)
        if entry is not None and variant is not None:
            entry = entry.get(variant)
            key = f"{key}[{variant}]"
        if entry is None:
            raise UnknownPrice(key, region)
        if region in entry:
            return float(entry[region])
        if "global" in entry:
            return float(entry["global"])
        raise UnknownPrice(key, region)

    def is_estimated(self, key: str, region: str, variant: str | None = None) -> bool:
        entry = self.prices.get(key, {})
        if variant is not None:
            entry = entry.get(variant, {})
        return region in entry.get("estimated", ())

    def regions(self) -> set[str]:
        """Regions with at least one regional figure (``global`` figures apply everywhere)."""
        found: set[str] = set()
        for entry in _leaves(self.prices):
            found.update(k for k in entry if k not in ("unit", "source", "estimated", "global"))
        return found


def _leaves(prices: dict[str, Any]):
    for entry in prices.values():
        if "unit" in entry:
            yield entry
        else:
            yield from _leaves(entry)


def load_price_table(path: Path = PRICES_FILE) -> PriceTable:
    data = tomllib.loads(path.read_text())
    meta = data["meta"]
    return PriceTable(
        prices=data["price"],
        sources=data["sources"],
        written=meta["written"],
        currency=meta["currency"],
        hours_per_month=float(meta["hours_per_month"]),
    )
