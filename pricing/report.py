"""The bill as text: one line per charge, subtotals per region, totals, what is unpriced, the assumptions."""

from __future__ import annotations

from pricing.bill import Bill

ESTIMATED_MARK = "*"


def format_bill(bill: Bill, *, title: str) -> str:
    table = bill.table
    out = [title, ""]
    header = f"{'region':<10} {'stack':<10} {'item':<66} {'idle':>9} {'load':>9}"
    out += [header, "-" * len(header)]
    for line in sorted(bill.lines, key=lambda item: (item.region, item.stack, item.address, item.item)):
        if line.idle == 0 and line.load == 0 and not line.note:
            continue
        mark = ESTIMATED_MARK if line.estimated else " "
        out.append(f"{line.region:<10} {line.stack:<10} {line.item[:65]:<65}{mark} {line.idle:>9.2f} {line.load:>9.2f}")
    out.append("-" * len(header))
    for region, (idle, load) in bill.totals_by_region().items():
        out.append(f"{'':<10} {'':<10} {'subtotal ' + region:<66} {idle:>9.2f} {load:>9.2f}")
    out.append(
        f"{'':<10} {'':<10} {'TOTAL per month (' + table.currency + ')':<66} {bill.idle_total:>9.2f} {bill.load_total:>9.2f}"
    )
    out.append("")
    out.append(f"Public IPv4 addresses held: {bill.public_ipv4_addresses():g}")
    if bill.unpriced:
        out += ["", "NOT PRICED (add them to pricing/ before trusting the total):"]
        out += [f"  {u.stack}: {u.address} ({u.region}): {u.reason}" for u in bill.unpriced]
    else:
        out += ["", "Every resource is priced or known to cost nothing by itself."]
    notes = sorted({(line.item, line.note) for line in bill.lines if line.note})
    out += ["", "Notes:"] + [f"  {item}: {note}" for item, note in notes]
    out += [
        "",
        f"Assumptions: a month is {table.hours_per_month:g} hours; every resource runs all month;",
        "the 'load' column is the stated load below, the 'idle' column a deployed site nobody uses.",
    ]
    for (name, idle), (_name, load) in zip(bill.idle_usage.describe(), bill.load_usage.describe(), strict=True):
        out.append(f"  {name:<36} idle {idle:>10}   load {load:>10}")
    out += [
        "",
        f"Prices: AWS list prices (on-demand) as of {table.written}, from pricing/prices.toml;",
        f"{ESTIMATED_MARK} marks a figure not confirmed on a captured pricing page (an estimate). Sources:",
    ]
    out += [f"  {name}: {url}" for name, url in table.sources.items()]
    return "\n".join(out)
