"""The SimPy peer's command line (tests/oracles/simpy_peer.py) on the tiny network."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from tests.oracles import simpy_peer

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"

# Hand-checked on tests/fixtures/tiny (A, B, C: p=10; H1, H2: p=30; all sorters unlimited):
# 1: created 0 at A, ready 10, L1 at 1080 -> H1 1140, ready 1170, L3 (air) at 1350 -> H2 1440,
#    ready 1470 (day 1, 30), L4 at day 1 300 = 1740 -> B 1800, ready 1810 (day 1, 370)
#    -> B wave 480 + 180 on day 1 = 2100.
# 2: created 0 at A for A (empty path): ready 10 -> wave 480 + 180 = 660.
# 3: created 100 at A, L1 at 1080 -> H1 ready 1170, L2 (truck) at 1260 -> H2 2160, ready 2190
#    (day 1, 750): day 1's L4 trips (300, 720) have gone -> day 2 300 = 3180 -> B 3240,
#    ready 3250 (day 2, 370) -> day 2 wave 480 + 180 = 3540.
# 4: created 0 at A, L1 -> H1 ready 1170, L5 at 1200 -> C 4200, ready 4210 (day 2, 1330)
#    -> C wave 600 + 240 on day 3 = 4320 + 840 = 5160.
ROWS = [("1", "0", "A", "B", "L1;L3;L4"), ("2", "0", "A", "A", ""), ("3", "100", "A", "B", "L1;L2;L4"),
        ("4", "0", "A", "C", "L1;L5")]


def _write_parcels(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["parcel_id", "created_minute", "origin_facility", "dest_station", "path"])
        w.writerows(ROWS)
    return path


def _read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["parcel_id", "delivered_minute"]
    return [tuple(r) for r in rows[1:]]


def test_main(tmp_path):
    parcels = _write_parcels(tmp_path / "parcels.csv")
    out = tmp_path / "out.csv"
    assert simpy_peer.main([str(TINY), str(parcels), str(out)]) == 0
    assert _read(out) == [("1", "2100"), ("2", "660"), ("3", "3540"), ("4", "5160")]


def test_main_horizon_leaves_cells_empty(tmp_path):
    # H = 100 + 1000 = 1100: parcels 1, 3 and 4 are still on their way (at H1 from 1140 on).
    parcels = _write_parcels(tmp_path / "parcels.csv")
    out = tmp_path / "out.csv"
    assert simpy_peer.main([str(TINY), str(parcels), str(out), "--horizon", "1000"]) == 0
    assert _read(out) == [("1", ""), ("2", "660"), ("3", ""), ("4", "")]


def test_script(tmp_path):
    parcels = _write_parcels(tmp_path / "parcels.csv")
    out = tmp_path / "out.csv"
    script = Path(simpy_peer.__file__)
    subprocess.run([sys.executable, str(script), str(TINY), str(parcels), str(out)], check=True)
    assert _read(out)[0] == ("1", "2100")
