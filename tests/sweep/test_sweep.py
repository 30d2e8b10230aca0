"""``parcelnet sweep``: the scenario file read and checked, variations applied as documented,
and a scenario's results the same with 1, 2 and 4 workers, in any submission order, after a
worker is killed, and from the cache (docs/sweep.md)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError
from parcelnet.network.pnf import write_pnf
from parcelnet.sweep import load_sweep, run_sweep
from parcelnet.sweep.apply import apply_demand, apply_network
from parcelnet.sweep.run import compare, run_task
from tests.conftest import assert_one_line_error, random_network, run_cli

SCENARIOS = '''
[base]
network = "net"
parcels = "day.csv"
seeds = [1, 2]

[[scenario]]
name = "base"

[[scenario]]
name = "R1 x1.5"
demand = { "R1" = 1.5 }

[[scenario]]
name = "busiest lane down"
outages = [{ lane = "L11", from_minute = 0, to_minute = 1440 }]
seeds = [1]

[[scenario]]
name = "slower sorter, bigger trucks"
sorters = [{ hub = "F3", scale = 0.5 }]
trips = [{ lane = "L0", scale = 2 }]
seeds = [1]

[[scenario]]
name = "air link"
air_links = [{ from = "F0", to = "F4", duration_minutes = 120, departures = [600, 1200], capacity = 50 }]
seeds = [1]
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A small network with tight capacities (10 a trip) and a day of 3,000 parcels."""
    d = tmp_path_factory.mktemp("sweep")
    net = random_network(3, n=9, lanes=24)
    write_pnf(net, d / "net")
    rng = np.random.default_rng(0)
    st = net.facilities.loc[net.facilities["kind"] == "station", "facility_id"].to_numpy()
    n = 3000
    pd.DataFrame({"parcel_id": np.arange(n), "created_minute": np.sort(rng.integers(0, 1440, n)),
                  "origin_facility": rng.choice(st, n), "dest_station": rng.choice(st, n)}
                 ).to_csv(d / "day.csv", index=False)
    (d / "s.toml").write_text(SCENARIOS)
    return d


def test_the_file_expands_by_seed(folder):
    s = load_sweep(folder / "s.toml")
    assert [(x.name, x.seed) for x in s.scenarios] == [
        ("base", 1), ("base", 2), ("R1 x1.5", 1), ("R1 x1.5", 2), ("busiest lane down", 1),
        ("slower sorter, bigger trucks", 1), ("air link", 1)]
    assert s.network == folder / "net" and s.parcels == folder / "day.csv"


@pytest.mark.parametrize("change, parts", [
    ('name = "base"', ["scenario[0].nam", "unknown field"]),
    ('from_minute = 0, to_minute = 1440', ["from_minute", "missing"]),
    ('seeds = [1, 2]', ["base.seeds", "a seed appears twice"]),
    ('scale = 0.5', ["sorters[0].scale", "above 0"]),
    ('"R1" = 1.5', ["demand.R1", "0..100"]),
])
def test_bad_files_name_the_field(folder, tmp_path, change, parts):
    bad = {'name = "base"': 'nam = "base"',
           'from_minute = 0, to_minute = 1440': 'to_minute = 1440',
           'seeds = [1, 2]': 'seeds = [1, 1]',
           'scale = 0.5': 'scale = 0',
           '"R1" = 1.5': '"R1" = -1'}[change]
    f = tmp_path / "bad.toml"
    f.write_text(SCENARIOS.replace(change, bad, 1))
    with pytest.raises(ParameterError) as e:
        load_sweep(f)
    msg = str(e.value)
    assert str(f) in msg and all(p in msg for p in parts), msg


def test_unknown_ids_are_refused_when_applied(folder):
    s = load_sweep(folder / "s.toml")
    net = random_network(3, n=9, lanes=24)
    from dataclasses import replace

    from parcelnet.sweep.scenario import Change, Outage
    with pytest.raises(ParameterError, match="no lane 'L99'"):
        apply_network(net, replace(s.scenarios[0], outages=(Outage("L99", None, 0, 60),)))
    with pytest.raises(ParameterError, match="no facility 'X'"):
        apply_network(net, replace(s.scenarios[0], sorters=(Change(None, "X", 2.0),)))


def test_variations_by_hand(folder):
    from dataclasses import replace

    from parcelnet.demand import load_parcels
    from parcelnet.sweep.scenario import Change, Outage
    net = random_network(3, n=9, lanes=24)
    sc = load_sweep(folder / "s.toml").scenarios[0]
    tt = net.timetable
    # an outage from 23:00 to 01:00 wraps midnight: exactly those trips of the lane go
    lane = int(np.bincount(tt.trip_lane).argmax())
    lid = net.lane_index[lane]
    mine = tt.trip_departure[tt.trip_lane == lane]
    out, removed = apply_network(net, replace(sc, outages=(Outage(lid, None, 1380, 60),)))
    gone = ((mine >= 1380) | (mine < 60)).sum()
    assert len(out.tables["trips.csv"]) == len(net.tables["trips.csv"]) - gone
    assert (lid in removed) == (gone == len(mine))
    # trips of a lane times 2.5, rounded up; a sorter's rate times 0.5, unlimited stays so
    out, _ = apply_network(net, replace(sc, trips=(Change(lid, None, 2.5),)))
    caps = out.timetable.trip_capacity[out.timetable.trip_lane == out.lane_index.get_loc(lid)]
    assert (caps == 25).all()
    out, _ = apply_network(net, replace(sc, sorters=(Change(None, "F1", 0.5),)))
    assert out.timetable.sort_per_minute[1] == 0                  # 0 = unlimited
    # demand: x0 removes a province's parcels, x2 doubles them with new ids
    day = load_parcels(folder / "day.csv", net)
    from parcelnet.sim.kpis import station_admin1
    prov = station_admin1(net)[day.origin_pos]
    for m in (0.0, 2.0, 1.5):
        got = apply_demand(net, day, replace(sc, demand=(("R1", m),)))
        r1 = int((prov == "R1").sum())
        n_r1 = int((station_admin1(net)[got.origin_pos] == "R1").sum())
        if m != 1.5:
            assert n_r1 == int(m * r1)
        else:
            assert abs(n_r1 - 1.5 * r1) < 4 * np.sqrt(r1)
        assert len(np.unique(got.parcel_id)) == len(got)
        assert (np.diff(got.created_minute) >= 0).all()
        assert len(got) - n_r1 == len(day) - r1


@pytest.fixture(scope="module")
def reference(folder):
    """Every task run in this process, one after the other: what any engine must give."""
    from parcelnet.sweep.run import _tasks, base_inputs
    s = load_sweep(folder / "s.toml")
    return [run_task(t) for t in _tasks(s, base_inputs(s))]


def key(runs):
    return [(r["scenario"], r["seed"], r["parcel_hash"], r["late"], r["on_time_share"]) for r in runs]


def test_the_scenarios_differ_where_they_should(reference):
    by = {(r["scenario"], r["seed"]): r for r in reference}
    assert by[("base", 1)]["parcel_hash"] == by[("base", 2)]["parcel_hash"]   # a file: seeds only draw demand
    assert by[("R1 x1.5", 1)]["parcel_hash"] != by[("R1 x1.5", 2)]["parcel_hash"]
    for name in ("R1 x1.5", "busiest lane down", "slower sorter, bigger trucks", "air link"):
        assert by[(name, 1)]["parcel_hash"] != by[("base", 1)]["parcel_hash"], name
    assert "L11" in by[("busiest lane down", 1)]["lanes_removed"]
    assert by[("R1 x1.5", 1)]["parcels"] > by[("base", 1)]["parcels"]


@pytest.mark.parametrize("workers, shuffled", [(1, False), (2, True), (4, True)])
def test_same_results_with_any_workers_and_order(folder, tmp_path, reference, workers, shuffled):
    s = load_sweep(folder / "s.toml")
    order = list(np.random.default_rng(workers).permutation(len(s.scenarios))) if shuffled else None
    res = run_sweep(s, cache_dir=tmp_path / "cache", workers=workers, order=order)
    assert key(res.runs) == key(reference)
    assert res.ran == len(s.scenarios) and res.cached == 0
    again = run_sweep(s, cache_dir=tmp_path / "cache", workers=workers)
    assert again.ran == 0 and again.cached == len(s.scenarios) and key(again.runs) == key(reference)


def test_a_changed_scenario_alone_runs_again(folder, tmp_path):
    s = load_sweep(folder / "s.toml")
    run_sweep(s, cache_dir=tmp_path / "cache", workers=2)
    f = tmp_path / "s.toml"
    (tmp_path / "net").symlink_to(folder / "net")
    (tmp_path / "day.csv").symlink_to(folder / "day.csv")
    f.write_text(SCENARIOS.replace("capacity = 50", "capacity = 60").replace('name = "base"', 'name = "renamed"'))
    res = run_sweep(load_sweep(f), cache_dir=tmp_path / "cache", workers=2)
    assert res.ran == 1 and res.cached == len(s.scenarios) - 1      # a new name is the same inputs


def kill_when_seen(cmdline_has: bytes, parent: int | None = None, wait: float = 0.0) -> tuple[threading.Thread, list]:
    """A thread that SIGKILLs the first process (a child of ``parent``, when given) whose
    command line holds ``cmdline_has``, ``wait`` seconds after seeing it: (thread, [pid])."""
    killed: list[int] = []

    def run():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            for pid in (p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if cmdline_has in cmd and (parent is None or ppid == parent):
                    time.sleep(wait)
                    os.kill(int(pid), signal.SIGKILL)
                    killed.append(int(pid))
                    break
            time.sleep(0.01)

    t = threading.Thread(target=run)
    t.start()
    return t, killed


def test_a_killed_worker_is_replaced_and_nothing_changes(folder, tmp_path, reference):
    """SIGKILL to a worker process mid-sweep: its tasks run again in a new pool."""
    s = load_sweep(folder / "s.toml")
    t, killed = kill_when_seen(b"spawn_main", parent=os.getpid(), wait=0.5)
    res = run_sweep(s, cache_dir=tmp_path / "cache", workers=2)
    t.join()
    assert killed, "no worker process was found to kill"
    assert res.retried >= 1
    assert key(res.runs) == key(reference)


def test_compare_and_the_cli(folder, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run_cli(capsys, "sweep", str(folder / "s.toml"), "--out", str(out), "--workers", "2",
                              "--json")
    assert code == 0
    import json
    got = json.loads(stdout)
    assert len(got["runs"]) == 7 and [r["scenario"] for r in got["comparison"]][:2] == ["base", "R1 x1.5"]
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["scenario"]) == ["base", "R1 x1.5", "busiest lane down",
                                       "slower sorter, bigger trucks", "air link"]
    base = table.iloc[0]
    assert base["seeds"] == 2 and base["on_time_share_min"] <= base["on_time_share_mean"] <= base["on_time_share_max"]
    assert (out / "comparison.png").stat().st_size > 10_000
    t = compare(got["runs"])
    assert t.equals(compare(got["runs"][::-1]).set_index("scenario").loc[t["scenario"]].reset_index())


def test_cli_bad_input(folder, tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text(SCENARIOS.replace('from_minute = 0, to_minute = 1440', 'from_minute = 0, to_minute = 0'))
    code, _, err = run_cli(capsys, "sweep", f, "--out", tmp_path / "o")
    assert code == 2
    assert_one_line_error(err, str(f), "outages[0].to_minute", "empty window")
    code, _, err = run_cli(capsys, "sweep", folder / "s.toml", "--out", tmp_path / "o", "--engine", "spark")
    assert code == 2
    assert_one_line_error(err, "--engine")
