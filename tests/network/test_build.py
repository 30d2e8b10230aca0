"""The default network builder on real geography (CN and DE)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from parcelnet.errors import NotFoundError, ParameterError
from parcelnet.plan.build import build_network
from parcelnet.network.params import load_params, minute_of_day
from parcelnet.promise import PromiseEngine


@pytest.fixture(scope="module")
def cn():
    return build_network("CN")


def test_every_county_is_served_by_its_own_station(cn):
    places = cn.places
    assert len(places) == 2871 and places["place_id"].is_unique
    # counties (6 digits) and the townships of prefectures without counties (9 digits)
    assert (places["place_id"].str.fullmatch(r"\d{6}|\d{9}")).all()
    st = cn.facilities.set_index("facility_id")
    assert (st.loc[places["station_id"], "kind"] == "station").all()
    assert places["station_id"].is_unique          # one station per county-level unit
    assert len(cn.stations) == 2871
    assert set(places["admin1"]) >= {"Zhejiang", "Beijing", "Xizang", "Xinjiang"}
    assert len(set(places["admin1"])) == 31


def test_tiers_and_hubs(cn):
    fac = cn.facilities
    tiers = fac["tier"].value_counts()
    meta = json.loads(cn.meta["build.json"])
    # prefectures + municipalities + direct units; the gateways are centres with an air operation
    assert tiers["centre"] + tiers["gateway"] == meta["centres"] >= 333
    p = load_params("CN")
    assert p.hubs.min_count <= meta["hubs"] <= p.hubs.max_count
    # the 20 cities with most long-distance flow, then the largest city of each region no
    # gateway reaches (Urumqi, Harbin, Lanzhou, ...)
    assert tiers["gateway"] == meta["gateways"] > p.air.gateways == 20
    assert tiers["air_hub"] == meta["air_hubs"] == 1
    air_hub = fac[fac["tier"] == "air_hub"].iloc[0]
    ezhou = fac[fac["facility_id"] == "C4207"].iloc[0]         # air.hub = "C4207"
    assert "Ezhou" in air_hub["name"] and (air_hub["lat"], air_hub["lon"]) == (ezhou["lat"], ezhou["lon"])
    gateways = set(fac.loc[fac["tier"] == "gateway", "facility_id"])
    assert {"C1100", "C3100", "C4401", "C4403", "C3301", "C3307", "C3205", "C3505"} <= gateways
    assert {"C6501", "C2301", "C6201", "C4501"} <= gateways       # Urumqi, Harbin, Lanzhou, Nanning
    assert meta["parcels_per_day"] == 545_000_000
    # every hub is in mainland China's bounding box
    hubs = fac[fac["tier"].isin(["hub", "air_hub"])]
    assert hubs["lat"].astype(float).between(18, 54).all()
    assert hubs["lon"].astype(float).between(73, 135).all()


def test_capacity_is_sized_for_the_day(cn):
    lanes = cn.lanes
    fm = lanes[lanes["tier"] == "first_mile"]
    total = fm["design_parcels_per_day"].astype(int).sum()
    # every parcel of the 545M design day boards a first-mile lane, except the few per cent
    # that stay at their origin station (origin = destination)
    assert 0.95 * 545e6 < total <= 545e6
    trips = cn.tables["trips.csv"].merge(lanes[["lane_id", "design_parcels_per_day"]], on="lane_id")
    per_lane = trips.groupby("lane_id")["capacity"].apply(lambda c: c.astype(int).sum())
    demand = lanes.set_index("lane_id")["design_parcels_per_day"].astype(int)
    assert (per_lane >= demand.loc[per_lane.index]).all()  # daily capacity covers design flow
    assert (cn.facilities["sort_per_minute"].astype(int) > 0).all()


def test_vans_arrive_in_time_for_the_morning_wave(cn):
    p = load_params("CN")
    wave = minute_of_day(p.timetable.waves[0][0], "")
    lanes = cn.lanes.set_index("lane_id")
    lm = lanes[lanes["tier"] == "last_mile"]
    trips = cn.tables["trips.csv"]
    first = trips[trips["lane_id"].isin(lm.index)].groupby("lane_id")["departure_minute"].apply(
        lambda d: sorted(d.astype(int)))
    for lane_id, deps in first.items():
        dur = int(lm.at[lane_id, "duration_minutes"])
        # some departure reaches the station and is sorted by the morning wave (mod one day)
        assert any((wave - (d + dur + p.processing.station_minutes)) % 1440 <= 120 for d in deps)


def test_promises_on_the_built_network(cn):
    eng = PromiseEngine(cn)
    hangzhou, shanghai, lhasa = "C3301", "S310101", "S540102"
    p = eng.query(hangzhou, shanghai, 18 * 60)
    assert p.promise_minute - 18 * 60 <= 1440       # a neighbouring city, overnight
    far = eng.query("C3100", lhasa, 18 * 60)
    assert far.promise_minute - 18 * 60 > 1440       # Tibet is not next-day by this design
    # every station is reachable from Hangzhou
    d = eng.delivered_from(cn.facility(hangzhou), np.array([600]))
    assert (d < 1 << 60).all()


def test_build_is_deterministic(cn):
    again = build_network("CN")
    for name, df in cn.tables.items():
        assert df.equals(again.tables[name]), name


def test_parameters_override_and_typos():
    p = load_params("CN")
    assert p.hubs.target_mean_km == 90.0 and p.stations.method == "per_place"
    with pytest.raises(ParameterError, match="unknown parameter hubs.cout"):
        p.updated({"hubs": {"cout": 3}}, "x.toml")
    with pytest.raises(ParameterError, match="must be float"):
        p.updated({"speeds": {"truck_kmh": "fast"}}, "x.toml")


def test_user_params_file(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('[hubs]\ncount = 6\n[air]\ngateways = 2\n[country.DE]\nstations.merge_radius_km = 25.0\n')
    p = load_params("DE", f)
    assert p.hubs.count == 6 and p.stations.merge_radius_km == 25.0
    net = build_network("DE", p)
    meta = json.loads(net.meta["build.json"])
    assert meta["hubs"] == 6
    bad = tmp_path / "bad.toml"
    bad.write_text("[timetable]\nwaves = [[\"25:00\", 60]]\n")
    with pytest.raises(ParameterError, match="not a time of day"):
        load_params("DE", bad)


def test_another_country_same_method():
    de = build_network("DE")
    meta = json.loads(de.meta["build.json"])
    assert meta["country"] == "DE" and meta["stations"] < len(de.places)
    assert meta["hubs"] >= 2 and meta["air_hubs"] == 0        # Germany spans < 1,500 km
    # every place is served, and an order from a hub reaches most of the population in 48 h
    eng = PromiseEngine(de)
    d = eng.delivered_from(int(de.hubs[0]), np.array([18 * 60]))[0]
    col = np.searchsorted(eng.stations, de.place_station)
    within48 = (d[col] - 18 * 60 <= 2880)
    assert (de.place_population * within48).sum() / de.place_population.sum() > 0.9


def test_unknown_country():
    with pytest.raises(NotFoundError, match="unknown country"):
        build_network("XX")


@pytest.mark.parametrize("country", ["LU", "VA"])
def test_single_centre_countries(country):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no 0/0 in the gravity model
        net = build_network(country)
    flows = net.lanes["design_parcels_per_day"].astype(int)
    assert (flows >= 0).all() and (net.facilities["sort_per_minute"].astype(int) > 0).all()


def test_a_section_given_as_a_value(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text("hubs = 3\n")
    with pytest.raises(ParameterError, match=r"'hubs' is a section; set its keys under \[hubs\]"):
        load_params("CN", f)


def test_capacities_carry_their_design_day():
    """A 1/100 sample of a normal day (the demand model, another seed) on capacities scaled
    by 1/100 is mostly on time: the builder sized trips and sorters for that day."""
    from parcelnet.demand import generate_parcels
    from parcelnet.parcels import Parcels
    from parcelnet.network.scale import scale_capacity
    from parcelnet.sim.kpis import kpis
    from parcelnet.sim.run import simulate
    de = build_network("DE")
    volume = json.loads(de.meta["build.json"])["parcels_per_day"]
    n = volume // 100
    df = generate_parcels(de, n, "normal", seed=7)
    net = scale_capacity(de, n / volume)
    res = simulate(net, Parcels.from_frame(df, net))
    k = kpis(res).to_dict()
    assert k["unroutable"] == 0 and k["delivered_share"] > 0.99
    assert k["on_time_share"] > 0.85


@pytest.mark.long
def test_p_hub_method_improves_the_hub_objective():
    from parcelnet.geo import load_places
    from parcelnet.plan.build import plan_layout
    from parcelnet.plan.hubdata import HubInstance
    from parcelnet.plan.hubs import single_cost
    p = load_params("CN")
    places = load_places("CN")
    base = plan_layout(places, p)
    lay = plan_layout(places, p.updated({"hubs": {"method": "p-hub"}}))
    assert len(lay.hubs) == len(base.hubs)                   # the same p, other hubs or allocation
    # both allocations under the p-hub objective the builder optimises
    from parcelnet.geo.coords import pairwise_km
    c = lay.centres
    dist = pairwise_km(c["lat"].to_numpy(float), c["lon"].to_numpy(float))
    hubs = lay.hubs["centre"].to_numpy()
    assert (np.diff(hubs) > 0).all() and (lay.centre_hub[hubs] == np.arange(len(hubs))).all()
    pop = c["population"].to_numpy(float)
    pv = p.volume
    flow = np.outer(pop, pop) / (1 + dist / pv.distance_scale_km) ** pv.distance_decay
    np.fill_diagonal(flow, 0)
    inst = HubInstance("cn", dist * p.speeds.circuity, flow / flow.sum(), len(hubs), 1.0,
                       p.hubs.transfer_discount, 1.0)
    before = single_cost(inst, base.hubs["centre"].to_numpy()[base.centre_hub])
    after = single_cost(inst, lay.hubs["centre"].to_numpy()[lay.centre_hub])
    assert after < before
    with pytest.raises(ParameterError, match="hubs.method must be one of p-median, p-hub"):
        p.updated({"hubs": {"method": "best"}})


def test_a_params_file_that_is_not_utf8_is_one_line(tmp_path, capsys):
    from tests.conftest import assert_one_line_error, run_cli
    f = tmp_path / "p.toml"
    f.write_bytes("[hubs]\n# 注释\ncount = 6\n".encode("gb18030"))
    with pytest.raises(ParameterError, match=r"p.toml: line 2: not UTF-8 text"):
        load_params("CN", f)
    code, out, err = run_cli(capsys, "build", "--country", "DE", "--out", tmp_path / "de",
                             "--params", f)
    assert code == 2 and out == ""
    assert_one_line_error(err, "p.toml", "line 2", "not UTF-8")
    assert not (tmp_path / "de").exists()


def test_typed_parameters_match_the_defaults_file():
    """Every key of defaults.toml is a field of the typed parameters, with its value, and a
    variant is checked like a user's file."""
    import dataclasses
    import tomllib
    from importlib import resources

    from parcelnet.network.params import SECTIONS
    raw = tomllib.loads(resources.files("parcelnet.network").joinpath("defaults.toml").read_text())
    raw.pop("country")
    p = load_params("XX")
    for section, values in raw.items():
        fields = [f.name for f in dataclasses.fields(SECTIONS[section])]
        assert fields == list(values), section
        got = p.as_dict()[section]
        assert got == {k: (float(v) if isinstance(v, int) and isinstance(got[k], float) else v)
                       for k, v in values.items()}, section
    q = p.updated({"speeds": {"truck_kmh": 80}})
    assert q.speeds.truck_kmh == 80.0 and p.speeds.truck_kmh == 72.0
    with pytest.raises(ParameterError, match="speeds.truck_kmh must be > 0"):
        p.updated({"speeds": {"truck_kmh": 0}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.speeds.truck_kmh = 1.0
