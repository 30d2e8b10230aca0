"""Design commands: plan hubs, plan capacity, plan service; explain."""

from __future__ import annotations

import math
from pathlib import Path

from parcelnet.cli._common import (UsageError, add_json, bars, day, integer, number,
                                   print_json, writable)


def hubs(a) -> int:
    from dataclasses import replace

    from parcelnet.plan import local_search, read_ap, read_cab, solve_multiple, solve_single
    from parcelnet.plan.hub_bound import DEFAULT_TIME_LIMIT, heuristic_with_bound
    from parcelnet.viz.console import timed
    from parcelnet.viz.text import hub_solution_text

    if (a.ap is None) == (a.cab is None):
        raise UsageError("give one data file: --ap FILE (OR-Library AP format) or --cab FILE")
    p = None if a.p is None else integer(a.p, "--p", 1)
    alpha = number(a.alpha, "--alpha", "a number")
    time_limit = number(a.time_limit, "--time-limit", "a number of seconds", above=0)
    capacitated = a.fixed is not None or a.capacity is not None
    if capacitated and (a.fixed is None or a.capacity is None or a.ap is None):
        raise UsageError("the capacitated problem needs --ap with both --fixed FILE and --capacity FILE")
    if capacitated and a.allocation != "single":
        raise UsageError("the capacitated problem is single allocation")
    if a.cab is not None:
        if alpha is None:
            raise UsageError("--cab needs --alpha (the transfer discount, e.g. 0.2 to 1.0)")
        if p is None:
            raise UsageError("--cab needs --p (the CAB file has no number of hubs)")
        inst = read_cab(a.cab, alpha, p)
    else:
        inst = read_ap(a.ap, a.fixed, a.capacity)
        if alpha is not None:
            inst = replace(inst, alpha=alpha).check()
    if p is not None:
        inst = inst.with_p(p).check()
    if a.bound and not a.heuristic:
        raise UsageError("--bound goes with --heuristic (the exact methods prove their own bound)")
    if a.heuristic and (a.allocation != "single" or capacitated):
        raise UsageError("--heuristic is the single-allocation p-hub median's local search")
    if a.heuristic and a.bound:
        target = number(a.target_gap, "--target-gap", "a share >= 0", lo=0)
        with bars(quiet=a.json) as progress:
            sol = heuristic_with_bound(inst, time_limit or DEFAULT_TIME_LIMIT, target, progress=progress)
    else:
        with timed(f"{inst.name}: hub location", quiet=a.json) as progress:
            if a.heuristic:
                sol = local_search(inst, progress=progress)
            elif a.allocation == "multiple":
                sol = solve_multiple(inst, time_limit=time_limit, progress=progress)
            else:
                sol = solve_single(inst, capacitated=capacitated, time_limit=time_limit,
                                   progress=progress)
    if a.json:
        print_json(sol)
        return 0
    hub_solution_text(inst, sol, a.allocation)
    return 0


def capacity(a) -> int:
    from parcelnet.demand import load_parcels
    from parcelnet.network.pnf import load_network, write_pnf
    from parcelnet.plan.capacity import SORTER_COST_PER_PPM_DAY, plan_capacity
    from parcelnet.viz.console import console
    from parcelnet.viz.text import capacity_plan_text

    target = number(a.target, "--target", "a share between 0 and 1")
    scale = number(a.capacity_scale, "--capacity-scale", "a positive number", above=0)
    cost = number(a.sorter_cost, "--sorter-cost", "a cost in CNY a day", lo=0)
    rounds = integer(a.rounds, "--rounds", 1)
    trials = integer(a.trials, "--trials")
    if trials < 0:
        raise UsageError(f"--trials must be >= 0, got {trials}")
    if a.out:
        writable(a.out, "--out")
    net = load_network(a.network)
    parcels = load_parcels(a.parcels, net)
    with bars(quiet=a.json) as progress:
        plan = plan_capacity(net, parcels, target=target, max_rounds=rounds,
                             sorter_cost=SORTER_COST_PER_PPM_DAY if cost is None else cost,
                             capacity_scale=scale, reverse_sims=trials, progress=progress)
    if a.out:
        write_pnf(plan.network, Path(a.out))
    if a.json:
        print_json({**plan.to_dict(), "network": a.out})
        return 0
    capacity_plan_text(plan, target)
    if a.out:
        console().print(f"network with the added capacity -> {a.out}")
    return 0


def service(a) -> int:
    from parcelnet.demand import load_parcels
    from parcelnet.network.pnf import load_network, write_pnf
    from parcelnet.plan.service import design_service
    from parcelnet.viz.service_map import render_design
    from parcelnet.viz.text import service_report_text

    budget = number(a.budget, "--budget", "a cost in CNY a day", lo=0)
    target = number(a.target, "--target", "a share between 0 and 1")
    step = integer(a.step, "--step", 1, 1440)
    time_limit = number(a.time_limit, "--time-limit", "a number of seconds", above=0)
    floor = number(a.max_province_loss_hours, "--max-province-loss-hours", "a number of hours >= 0", lo=0)
    tiers = tuple(t.strip() for t in a.tiers.split(",") if t.strip())
    origins = None if a.origins is None else [o.strip() for o in a.origins.split(",") if o.strip()]
    if origins is not None and (not origins or a.parcels):
        raise UsageError("--origins takes facility ids separated by commas, and no --parcels")
    if a.order_hour is not None and origins is None:
        raise UsageError("--order-hour goes with --origins (the hour of their orders)")
    hour = integer(20 if a.order_hour is None else a.order_hour, "--order-hour", 0, 23)
    for flag, path in (("--out", a.out), ("--map", a.map)):
        if path:
            writable(path, flag)
    net = load_network(a.network)
    demand = load_parcels(a.parcels, net) if a.parcels else None
    with bars(quiet=a.json) as progress:
        d = design_service(net, demand, budget=budget, target=target, tiers=tiers, step=step,
                           new_air=not a.no_new_air, method=a.method, time_limit=time_limit,
                           origins=origins, order_hour=hour, max_province_loss_hours=floor,
                           add_only=a.add_only,
                           progress=progress)
    summary = {**d.to_dict(), "network": a.out}
    if a.out:
        from parcelnet.files import atomic_path
        write_pnf(d.network, Path(a.out))
        with atomic_path(Path(a.out) / "service_changes.csv") as tmp:
            d.changes.to_csv(tmp, index=False)
    if a.map:
        render_design(d, a.map, summary)
    if a.json:
        print_json(summary)
        return 0
    service_report_text(d, a.out, a.map)
    return 0


def explain(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.plan.explain import explain as run
    from parcelnet.viz.text import explanation_text

    net = load_network(a.network)
    at = integer(a.at, "--at", 0)
    res = run(net, a.origin, a.destination, at)
    if a.parcels:
        from parcelnet.demand import load_parcels
        from parcelnet.plan.capacity_reason import capacity_reason, order_on_a_day
        scale = number(a.capacity_scale, "--capacity-scale", "a positive number", above=0)
        if res.promise_minute is not None:
            sim = order_on_a_day(net, load_parcels(a.parcels, net), a.origin, a.destination, at,
                                 capacity_scale=scale)
            res.simulated = sim.to_dict()
            reason = capacity_reason(sim, at, res.within_24h)
            if reason:
                res.reasons.append(reason)
    if a.json:
        print_json(res)
        return 0
    explanation_text(res)
    return 0


def warehouses(a) -> int:
    from parcelnet.network.pnf import load_network, write_pnf
    from parcelnet.plan.warehouses import choose_warehouses
    from parcelnet.viz.console import console

    count = integer(a.count, "--count", 1)
    cap = integer(a.capacity_units, "--capacity-units", 0)
    day_km = number(a.day_km, "--day-km", "a road distance in km, 0 or more", lo=0.0)
    direct_km = number(a.direct_km, "--direct-km", "a road distance in km, 0 or more", lo=0.0)
    every = integer(a.day_every, "--day-every", 1, 1440)
    writable(Path(a.out) / "facilities.csv", "--out")
    net = load_network(a.network)
    with bars(quiet=a.json) as progress:
        r = choose_warehouses(net, count, capacity_units=cap, day_km=day_km, day_every=every,
                              direct_km=direct_km, bound=a.bound, progress=progress)
    write_pnf(r.network, a.out)
    if a.json:
        print_json({**r.to_dict(), "network": a.out})
        return 0
    con = console()
    names = r.network.facilities.set_index("facility_id")["name"]
    for w, c, alone in zip(r.warehouses, r.centres, r.each_alone):
        con.print(f"{w} at {c} {names[c]}: alone it reaches {alone:.1%} of the demand within 24 h")
    con.print(f"{len(r.warehouses)} warehouses reach {r.reach_24h:.1%} of the day's demand within "
              f"24 h (greedy {r.reach_24h_greedy:.1%}, {r.swaps} swaps; no {count} of the "
              f"{r.candidates} centres reach more than {r.upper_bound:.1%})")
    if r.hourly:
        worst = sorted(r.hourly["hours"], key=lambda x: x["bound"])[:3]
        con.print("the bound by order hour, lowest: " + ", ".join(
            f"{x['hour']:02d}:00 {x['bound']:.1%}" for x in worst)
            + " (orders that must be delivered the same day to make 24 h)")
    d = r.day_trucks
    if d["lanes"]:
        con.print(f"day trucks: {d['lanes'] - d['lanes_to_stations']:,} lanes to the centres within "
                  f"{d['km']:,.0f} km and {d['lanes_to_stations']:,} to the stations within "
                  f"{d['direct_km']:,.0f} km, one truck every {d['every_minutes']} min "
                  f"({d['departures']:,} departures, CNY {d['cost_per_day'] / 1e6:,.1f} M a day)")
    con.print(f"network with the warehouses -> {a.out}")
    return 0


def _dates(text: str) -> tuple[str, str]:
    """``--dates``: one day, or FIRST..LAST (YYYY-MM-DD), or a one-line usage error."""
    parts = str(text).split("..")
    if len(parts) > 2:
        raise UsageError(f"--dates must be a day or FIRST..LAST (YYYY-MM-DD), got '{text}'")
    first, last = day(parts[0], "--dates"), day(parts[-1], "--dates")
    if last < first:
        raise UsageError(f"--dates {text}: the last day comes before the first")
    return first, last


def placement(a) -> int:
    from parcelnet.demand.generate import hourly_profile
    from parcelnet.files import atomic_path
    from parcelnet.inventory import read_skus
    from parcelnet.network.pnf import load_network
    from parcelnet.plan.placement import forecast_units, plan_placement, read_forecast
    from parcelnet.viz.console import console

    text = str(a.budget_units).strip()
    what = "a whole number of units >= 0, or a multiple of the forecast's units such as 1.3x"
    times = text.lower().endswith("x")
    if times:           # a multiple of what one central warehouse would hold
        m = number(text[:-1], "--budget-units", what, lo=0)
    elif text.isdigit():
        budget = int(text)
    else:
        raise UsageError(f"--budget-units must be {what}, got '{text}'")
    dates = _dates(a.dates) if a.dates else None
    writable(a.out, "--out")
    net = load_network(a.network)
    skus = read_skus(a.skus, net)
    forecast = read_forecast(a.forecast, net, skus, dates)
    if times:
        budget = math.floor(m * forecast_units(forecast) + 1e-9)
    with bars(quiet=a.json) as progress:
        p = plan_placement(net, skus, forecast, budget, hour_weights=hourly_profile(a.day),
                           progress=progress)
    with atomic_path(a.out) as tmp:
        p.table.to_csv(tmp, index=False)
    if a.json:
        print_json({**p.to_dict(), "out": a.out})
        return 0
    con = console()
    con.print(f"{p.units_placed:,} units of {p.skus_placed:,} SKUs at {len(p.warehouses)} warehouses "
              f"(budget {p.budget_units:,}; one central warehouse would hold the forecast's "
              f"{p.forecast_units:,})")
    con.print(f"planned within 24 h: {p.planned_within_24h_units:,.0f} units, "
              f"{p.planned_share_24h:.1%} of the forecast (the planning model; parcelnet fulfil "
              f"gives the exact share of a day's orders) in {p.seconds:.1f} s")
    con.print(f"placement -> {a.out}")
    return 0


def register(sub) -> None:
    from parcelnet.plan.hubs import ALLOCATIONS
    from parcelnet.plan.service import METHODS, SCOPE_TIERS

    pl = sub.add_parser("plan", help="design the network: hub location, service, capacity for a "
                                     "peak day")
    psub = pl.add_subparsers(dest="plan", required=True, metavar="WHAT")
    h = psub.add_parser("hubs", help="hub location solved exactly (HiGHS), on AP or CAB data",
                        description="Hub location: the p-hub median (single or multiple "
                                    "allocation) and the capacitated problem, solved exactly "
                                    "with HiGHS, or by local search with a proven bound.")
    h.add_argument("--ap", help="OR-Library AP data file (n, coordinates, flows, p, costs)")
    h.add_argument("--cab", help="CAB data file (lines 'i j flow cost'; flows normalised)")
    h.add_argument("--p", help="number of hubs (overrides the AP file's)")
    h.add_argument("--alpha", help="transfer cost factor (required with --cab; overrides AP's)")
    h.add_argument("--allocation", choices=ALLOCATIONS, default="single",
                   help="each node sends through one hub (single, default) or any (multiple)")
    h.add_argument("--fixed", help="AP fixed cost file (FcostX.NN): capacitated problem")
    h.add_argument("--capacity", help="AP capacity file (CapY.NN): capacitated problem")
    h.add_argument("--time-limit", help="seconds for branch and bound (or for --bound); then the "
                                        "best solution and the lower bound")
    h.add_argument("--heuristic", action="store_true", help="local search only (large n)")
    h.add_argument("--bound", action="store_true",
                   help="with --heuristic: a proven lower bound by Lagrangian relaxation "
                        "(stops at --target-gap or --time-limit, default 540 s)")
    h.add_argument("--target-gap", default="0.01",
                   help="--bound stops once objective <= (1 + gap) x bound (0.01; 0: at the limit)")
    add_json(h, '{"objective", "hubs", "allocation", ...}; nodes from 1')
    h.set_defaults(func=hubs)

    w = psub.add_parser("warehouses", help="K warehouse sites among the city sorting centres, "
                        "for 24 h reach, linked into the next-day cycle, with day trucks",
                        description="Warehouses for forward stock: K centres chosen for the "
                                    "population-weighted share of a day's orders they promise "
                                    "within 24 h (greedy and swaps, maximal covering), each "
                                    "with a warehouse trucked into its centre's collection, "
                                    "and day trucks to the centres and stations around it "
                                    "(docs/plan.md).")
    w.add_argument("network", help="PNF folder or .pnfz bundle")
    w.add_argument("--count", required=True, help="number of warehouses K")
    w.add_argument("--out", required=True, help="folder for the network with the warehouses")
    w.add_argument("--capacity-units", default="2000000",
                   help="units each warehouse may hold (default 2,000,000)")
    w.add_argument("--day-km", default="1200",
                   help="day trucks from each warehouse to the centres within this road distance, "
                   "km (default 1200; 0: none)")
    w.add_argument("--direct-km", default="600",
                   help="and straight to the stations within this road distance, km (default "
                   "600; 0: none)")
    w.add_argument("--day-every", default="120",
                   help="minutes between the day trucks' departures, from midnight (default 120)")
    w.add_argument("--bound", action="store_true",
                   help="also prove the bound hour by hour: each order hour's exact maximal "
                   "covering by K sites with HiGHS (minutes at national size)")
    add_json(w, "the sites, their 24 h reach and its bound")
    w.set_defaults(func=warehouses)

    pp = psub.add_parser("placement", help="units of each SKU to hold at each warehouse for "
                         "24 h promises", description="Forward stock placement: the most forecast "
                         "units promised within 24 h within the stock budget and the warehouses' "
                         "capacities, solved as a flow with HiGHS (docs/plan.md).")
    pp.add_argument("network", help="PNF folder or .pnfz bundle with warehouses")
    pp.add_argument("--skus", required=True, help="SKU table: sku,seller_facility,unit_cube_litres")
    pp.add_argument("--forecast", required=True, help="region,sku,units_forecast (a date column "
                    "is summed over); regions are places.csv admin1 names")
    pp.add_argument("--budget-units", required=True, help="units that may be placed in all, or "
                    "a multiple of the forecast's units (what one central warehouse would hold), "
                    "such as 1.3x, rounded down")
    pp.add_argument("--dates", help="only the forecast's rows of this day or these days, "
                    "FIRST..LAST (YYYY-MM-DD; default every row)")
    pp.add_argument("--day", choices=("normal", "peak"), default="normal",
                    help="the order hours the 24 h reach is averaged over: a normal day's or "
                    "the peak's, a tenth of whose orders come in the hour after midnight (default "
                    "normal)")
    pp.add_argument("--out", required=True, help="placement CSV: warehouse_id,sku,units")
    add_json(pp, "the placement's figures")
    pp.set_defaults(func=placement)

    c = psub.add_parser("capacity", help="more vehicles and faster sorters until a day is on time",
                        description="Grow trip and sorter capacity where a simulated day is "
                                    "short of it until a target share is on time, then take back "
                                    "what is not needed; costs in CNY a day.")
    c.add_argument("network", help="PNF folder or .pnfz bundle")
    c.add_argument("--parcels", required=True, help="a (peak) day of parcels, Parquet or CSV")
    c.add_argument("--target", default="0.95", help="on-time share to reach (default 0.95)")
    c.add_argument("--capacity-scale", default="1.0",
                   help="the parcels are this share of the day (as parcelnet simulate)")
    c.add_argument("--rounds", default="20", help="rounds of growth at most (default 20)")
    c.add_argument("--trials", default="16",
                   help="trial days for taking grown capacity back in blocks (default 16; 0: none)")
    c.add_argument("--sorter-cost", help="CNY a day of one parcel a minute of sorter rate (25)")
    c.add_argument("--out", help="write the network with the added capacity (PNF folder)")
    add_json(c, "the plan")
    c.set_defaults(func=capacity)

    v = psub.add_parser("service", help="which backbone trips to run for 24 h coverage at least cost",
                        description="Service network design: choose the backbone trips (existing, "
                                    "extra departures, new air links) for the best 24 h coverage "
                                    "within a budget, or a coverage target at least cost (CNY a "
                                    "day).")
    v.add_argument("network", help="PNF folder or .pnfz bundle")
    v.add_argument("--parcels", help="a demand day (parcelnet demand) weighting origins and hours; "
                   "default every hub and hour alike")
    v.add_argument("--budget", help="cost a day of the backbone trips, CNY (default: today's)")
    v.add_argument("--target", help="coverage share to reach at least cost (instead of --budget); "
                   "with --origins, from each origin")
    v.add_argument("--origins", help="facility ids (comma-separated): design for orders from each "
                   "at --order-hour, each origin alike")
    v.add_argument("--order-hour", help="with --origins: hour of day of their orders (default 20)")
    v.add_argument("--add-only", action="store_true",
                   help="keep every trip of today's network and only add trips: no promise "
                   "from anywhere lengthens")
    v.add_argument("--max-province-loss-hours", help="floor: no province's median promise grows "
                   "by more than this many hours")
    v.add_argument("--tiers", default=",".join(SCOPE_TIERS),
                   help=f"lane tiers to design (default {','.join(SCOPE_TIERS)})")
    v.add_argument("--step", default="60", help="minutes to which new departure times round (default 60)")
    v.add_argument("--no-new-air", action="store_true", help="no new air links, only the network's lanes")
    v.add_argument("--method", choices=METHODS, default="greedy",
                   help="greedy (any size) or exact MIP over chains of trips (small networks)")
    v.add_argument("--time-limit", help="seconds for the exact MIP")
    v.add_argument("--out", help="write the new network (PNF folder) and service_changes.csv")
    v.add_argument("--map", help="write PREFIX.png and PREFIX.html: the lanes added, removed, retimed")
    add_json(v, "the summary")
    v.set_defaults(func=service)

    x = sub.add_parser("explain", help="why an order is (not) delivered within 24 hours")
    x.add_argument("network", help="PNF folder or .pnfz bundle")
    x.add_argument("--from", dest="origin", required=True, help="origin facility id")
    x.add_argument("--to", dest="destination", required=True, help="destination station id")
    x.add_argument("--at", required=True, help="created minute (absolute; 1080 = 18:00 on day 0)")
    x.add_argument("--parcels", help="a day of parcels: simulate the order among them and name "
                   "the capacity limit that makes it late, if any")
    x.add_argument("--capacity-scale", default="1.0",
                   help="the parcels are this share of the day (as parcelnet simulate)")
    add_json(x, "the steps and reasons")
    x.set_defaults(func=explain)
