"""Pieces of ``parcelnet demo`` that run on any network (the demo itself builds China)."""

from __future__ import annotations

import re

from parcelnet.cli.demo import design_for_24_hours
from parcelnet.promise.coverage import coverage
from tests.plan.test_service_origins import BACKBONE, centres


def test_design_for_24_hours(capsys):
    """The before/after table of the add-only design: before is the promise engine's 20:00
    coverage of the network as it is, after at least the target (or what every candidate
    reaches), and the cost line says what was added."""
    net = centres(BACKBONE)
    origins = {"Shanghai a": "SHa", "Guangzhou b": "GZb"}
    design_for_24_hours(net, origins, target=0.9, improve_seconds=1)
    out = capsys.readouterr().out
    assert "90% of the population" in out and "no promise lengthens" in out
    shares = []
    for name, o in origins.items():
        row = next(line for line in out.splitlines() if o in line)
        before, after = (float(x) / 100 for x in re.findall(r"([\d.]+)%", row))
        assert name.split()[0] in row
        assert abs(before - coverage(net, [o], created_minutes=[20 * 60]).by_hour[0]) < 5e-4
        assert after >= max(before, 0.9 - 5e-4)       # the target is within reach here
        shares.append(before)
    assert min(shares) < 0.9                              # so the design had to add trips
    added = re.search(r"\(\+CNY ([\d,]+)\)", out)
    assert added and int(added.group(1).replace(",", "")) >= 0


def test_forward_stock(capsys):
    """The demo's forward stock on a small network: stock at two warehouses promises more
    of the day's SKU orders within 24 h than their sellers alone."""
    from parcelnet.cli.demo import forward_stock
    forward_stock(centres(BACKBONE), {"warehouses": 2, "skus": 30, "orders": 2000, "budget": 1.3})
    out = capsys.readouterr().out
    sellers = float(re.search(r"their sellers\s.*?([\d.]+)%", out).group(1))
    stock = float(re.search(r"stock placed forward\s.*?([\d.]+)%", out).group(1))
    assert stock > sellers
