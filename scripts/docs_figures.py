"""Make the figures of the docs from a built network.

    parcelnet build --country CN --out /tmp/cn
    python scripts/docs_figures.py /tmp/cn            # writes docs/img/*.png

- ``docs/img/journeys-hangzhou-2000.png`` (docs/network.md §4): orders placed at 20:00 at the
  Hangzhou sorting centre for six cities, on the clock (parcelnet.viz.journey).
"""

from __future__ import annotations

import sys
from pathlib import Path

from parcelnet.network.pnf import load_network
from parcelnet.plan.explain import explain
from parcelnet.promise import PromiseEngine
from parcelnet.viz.journey import write_journeys

OUT = Path(__file__).resolve().parent.parent / "docs" / "img"
#: (label, destination county code): a neighbour by truck, a trunk beyond a night's drive,
#: the air hub's city, a direct flight, the far west by the night sort, and Lhasa.
HANGZHOU_TO = [("Shanghai", "310101"), ("Jinan", "370102"), ("Wuhan", "420102"),
               ("Beijing", "110101"), ("Urumqi", "650102"), ("Lhasa", "540102")]


def main() -> None:
    net = load_network(sys.argv[1])
    eng = PromiseEngine(net)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [(f"Hangzhou > {name}", explain(net, "C3301", net.station_of_place(code), 20 * 60,
                                           engine=eng).steps) for name, code in HANGZHOU_TO]
    print(write_journeys(rows, "Orders placed at 20:00 at the Hangzhou sorting centre (C3301)",
                         OUT / "journeys-hangzhou-2000.png"))


if __name__ == "__main__":
    main()
