"""The ``parcelnet`` command: a thin layer over the package's functions.

Every error a user can cause is a :class:`ParcelnetError`, printed on one
line (``parcelnet: error: ...``) with exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from parcelnet import __version__
from parcelnet.errors import ParcelnetError


def _cmd_build(a) -> int:
    from parcelnet.network.build import build_network
    from parcelnet.network.params import load_params
    from parcelnet.network.pnf import BUNDLE_SUFFIX, write_bundle, write_pnf
    from parcelnet._ui import console, steps

    params = load_params(a.country, a.params)
    with steps(f"Building the {a.country.upper()} network") as step:
        net = build_network(a.country, params, progress=step)
    out = Path(a.out)
    (write_bundle if out.suffix == BUNDLE_SUFFIX else write_pnf)(net, out)
    s = net.summary()
    console().print(f"[bold]{a.country.upper()}[/]: {s.get('hubs', 0)} hubs (centres and regional), "
                    f"{s.get('stations', 0)} stations, {s['lanes']} lanes, {s['trips']} trips, "
                    f"{s['places']} places -> {out}")
    return 0


def _cmd_import(a) -> int:
    from parcelnet.network.pnf import BUNDLE_SUFFIX, load_network, write_bundle
    if Path(a.out).suffix != BUNDLE_SUFFIX:
        raise _usage(f"import writes a bundle: --out must end in {BUNDLE_SUFFIX}, got '{a.out}'")
    net = load_network(a.source)
    write_bundle(net, a.out)
    print(f"imported {a.source} -> {a.out} ({net.summary()['lanes']} lanes)")
    return 0


def _cmd_export(a) -> int:
    from parcelnet.network.pnf import load_network, write_pnf
    write_pnf(load_network(a.network), a.out)
    print(f"exported {a.network} -> {a.out}")
    return 0


def _cmd_validate(a) -> int:
    from parcelnet.network.pnf import load_network
    s = load_network(a.network).summary()
    print(json.dumps({"valid": True, **s}) if a.json else
          "valid PNF v1: " + ", ".join(f"{v} {k}" for k, v in s.items()))
    return 0


def _cmd_find(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet._ui import facility_table
    net = load_network(a.network)
    fac = net.facilities
    hit = fac[fac["facility_id"].str.contains(a.text, case=False, regex=False)
              | fac["name"].str.contains(a.text, case=False, regex=False)]
    if a.kind:
        hit = hit[hit["kind"] == a.kind]
    if hit.empty:
        print(f"no facility id or name contains '{a.text}'", file=sys.stderr)
        return 1
    facility_table(hit.head(a.limit), f"{len(hit)} facilities match '{a.text}'"
                   + (f" (first {a.limit})" if len(hit) > a.limit else ""))
    return 0


def _cmd_promise(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.promise import PromiseEngine
    from parcelnet.promise.batch import run_batch
    net = load_network(a.network)
    eng = PromiseEngine(net)
    if a.batch:
        if not a.out:
            raise _usage("--batch needs --out OUT.csv")
        n, unreachable, secs = run_batch(eng, a.batch, a.out)
        print(f"{n} promises ({unreachable} unreachable) in {secs:.2f} s -> {a.out}")
        return 0
    if a.origin is None or a.to is None or a.at is None:
        raise _usage("give --from FAC --to STATION --at MINUTE, or --batch QUERIES.csv --out OUT.csv")
    p = eng.query(a.origin, a.to, a.at)
    if a.json:
        print(json.dumps(p.as_dict()))
    elif p.promise_minute is None:
        print(f"{a.to} is not reachable from {a.origin}")
    else:
        from parcelnet._ui import clock
        print(f"created {clock(p.created_minute)} at {a.origin}, delivered {clock(p.promise_minute)} "
              f"at {a.to}: {p.hours} h via {' -> '.join(p.path) or '(same station)'}")
    return 0


def _cmd_cutoff(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.promise import PromiseEngine
    from parcelnet._ui import clock
    r = PromiseEngine(load_network(a.network)).latest_order(a.origin, a.to)
    r.pop("promise_hours_by_minute")
    if a.json:
        print(json.dumps(r))
        return 0
    fmt = lambda m: "none" if m is None else clock(m)[-5:]  # noqa: E731
    print(f"{a.origin} -> {a.to}: latest order for 24h delivery {fmt(r['cutoff_24h'])}, "
          f"next-day cut-off {fmt(r['next_day_cutoff'])}; 24h windows: "
          + (", ".join(f"{fmt(s)}-{fmt(e)}" for s, e in r["windows_24h"]) or "none"))
    return 0


def _cmd_coverage(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.promise.report import coverage_report
    net = load_network(a.network)
    scale = _number(a.capacity_scale, "--capacity-scale", "a positive number")
    parcels = None
    if a.parcels:
        from parcelnet.demand import read_parcels
        parcels = read_parcels(a.parcels, net)
    cov, paths = coverage_report(net, a.origin, a.map or Path(a.network).with_suffix("").name + "-coverage",
                                 quiet=a.json)
    day = None
    if parcels is not None:
        from parcelnet.plan.capacity_reason import day_outside_24h
        day = day_outside_24h(net, parcels, capacity_scale=scale)
        if not a.json:
            from parcelnet._ui import console
            console().print(
                f"simulated day of {day['parcels']:,} parcels: {day['within_24h_by_promise']:.1%} "
                f"within 24 h by promise, {day['within_24h_simulated']:.1%} as simulated; "
                f"capacity limit puts {day['outside_24h_by_capacity']:.1%} beyond 24 h")
    if a.json:
        extra = {"simulated_day": day} if day else {}
        print(json.dumps({**cov.to_json(), **extra, "map_png": str(paths[0]), "map_html": str(paths[1])}))
    return 0


def _cmd_demand(a) -> int:
    import time

    from parcelnet._ui import console, progress_bar
    from parcelnet.demand import default_parcels, generate_to_file
    from parcelnet.network.pnf import load_network

    n = default_parcels(a.day) if a.parcels is None else _integer(a.parcels, "--parcels")
    seed = _integer(a.seed, "--seed")
    net = load_network(a.network)
    t0 = time.perf_counter()
    quiet = n < 2_000_000 or not sys.stderr.isatty()
    with progress_bar(f"{a.day} day", n, quiet=quiet) as advance:
        generate_to_file(net, a.out, n, a.day, seed, a.origin_shares, progress=advance)
    console().print(f"{n:,} parcels ({a.day} day, seed {seed}) -> {a.out} "
                    f"in {time.perf_counter() - t0:.1f} s")
    return 0


def _integer(text, what: str) -> int:
    from parcelnet.errors import ParameterError
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be an integer, got '{text}'") from None


def _number(text, flag: str, what: str) -> float | None:
    """An optional float option, or a one-line usage error."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise _usage(f"{flag} must be {what}, got '{text}'") from None


def _cmd_simulate(a) -> int:
    from parcelnet.demand import read_parcels
    from parcelnet.network.pnf import load_network
    from parcelnet.promise.report import network_country
    from parcelnet.sim.kpis import kpis
    from parcelnet.sim.report import print_kpis, write_report
    from parcelnet.sim.results import write_results
    from parcelnet.sim.run import simulate
    from parcelnet._ui import console, staged_progress

    if a.horizon_days < 1:
        raise _usage(f"--horizon-days must be at least 1, got {a.horizon_days}")
    if (a.parcels is None) == (a.generate is None):
        raise _usage("give either --parcels FILE or --generate N (a day of the demand model)")
    if a.generate is not None and a.out:
        raise _usage("--out: a streamed day (--generate) keeps no per-parcel paths; write the "
                     "parcels with 'parcelnet demand' and simulate that file for per-parcel results")
    if a.parcels is not None and (a.day or a.seed is not None):
        raise _usage("--day and --seed go with --generate, not with --parcels")
    for flag, target in (("--out", a.out), ("--report", a.report)):
        if target:   # fail before an hour of simulation, not after; create nothing yet
            _check_writable(flag, Path(target))
    net = load_network(a.network)
    if not a.capacity_scale > 0:
        raise _usage(f"--capacity-scale must be a positive number, got {a.capacity_scale}")
    if a.capacity_scale != 1.0:
        from parcelnet.network.scale import scale_capacity
        net = scale_capacity(net, a.capacity_scale)
    if a.generate is not None:
        from parcelnet.sim.stream import simulate_day
        n = _integer(a.generate, "--generate")
        seed = _integer(a.seed if a.seed is not None else "0", "--seed")
        with staged_progress(quiet=a.json) as progress:
            res = simulate_day(net, n, a.day or "normal", seed,
                               horizon_minutes=a.horizon_days * 1440, progress=progress)
    else:
        parcels = read_parcels(a.parcels, net)
        with staged_progress(quiet=a.json) as progress:
            res = simulate(net, parcels["parcel_id"].to_numpy(),
                           parcels["created_minute"].to_numpy(), parcels["origin_pos"].to_numpy(),
                           parcels["dest_pos"].to_numpy(), horizon_minutes=a.horizon_days * 1440,
                           progress=progress)
    k = kpis(res)
    if a.out:
        write_results(res, a.out)
    report = Path(a.report) if a.report else (Path(a.out).with_suffix(".html") if a.out
                                               else Path("simulation.html"))
    write_report(res, k, report, network_country(net))
    if a.json:
        print(json.dumps({**k, "results": a.out, "report": str(report)}))
    else:
        print_kpis(k)
        console().print(f"report: {report}" + (f"  results: {a.out}" if a.out else ""))
    return 0


def _cmd_plan_hubs(a) -> int:
    from parcelnet.plan import local_search, read_ap, read_cab, solve_multiple, solve_single
    from parcelnet._ui import console

    if (a.ap is None) == (a.cab is None):
        raise _usage("give one data file: --ap FILE (OR-Library AP format) or --cab FILE")
    p = None if a.p is None else _integer(a.p, "--p")
    alpha = _number(a.alpha, "--alpha", "a number")
    time_limit = _number(a.time_limit, "--time-limit", "a number of seconds")
    capacitated = a.fixed is not None or a.capacity is not None
    if capacitated and (a.fixed is None or a.capacity is None or a.ap is None):
        raise _usage("the capacitated problem needs --ap with both --fixed FILE and --capacity FILE")
    if capacitated and a.allocation != "single":
        raise _usage("the capacitated problem is single allocation")
    if a.cab is not None:
        if alpha is None:
            raise _usage("--cab needs --alpha (the transfer discount, e.g. 0.2 to 1.0)")
        if p is None:
            raise _usage("--cab needs --p (the CAB file has no number of hubs)")
        inst = read_cab(a.cab, alpha, p)
    else:
        inst = read_ap(a.ap, a.fixed, a.capacity)
        if alpha is not None:
            from dataclasses import replace
            inst = replace(inst, alpha=alpha).check()
    if p is not None:
        inst = inst.with_p(p).check()
    if a.heuristic:
        if a.allocation != "single" or capacitated:
            raise _usage("--heuristic is the single-allocation p-hub median's local search")
        sol = local_search(inst)
        if a.bound:
            import time
            from dataclasses import replace

            from parcelnet._ui import staged_progress
            from parcelnet.plan.hub_bound import lagrangian_bound
            limit = time_limit or 540.0
            target = _number(a.target_gap, "--target-gap", "a share >= 0")
            if not target >= 0:
                raise _usage(f"--target-gap must be a share >= 0, got '{a.target_gap}'")
            with staged_progress(quiet=a.json) as bar:
                def progress(it, lb, best, upper):
                    bar("Lagrangian bound (seconds of the limit)",
                        min(int(time.perf_counter() - t0), int(limit)), int(limit))
                t0 = time.perf_counter()
                b = lagrangian_bound(inst, sol.objective, time_limit=limit, target_gap=target,
                                     progress=progress)
            if b["solution"] is not None:                # the Lagrangian heuristic did better
                sol = replace(b["solution"], method=sol.method + " from the relaxation's hubs",
                              seconds=sol.seconds)
            sol = replace(sol, lower_bound=b["lower_bound"], seconds=sol.seconds + b["seconds"],
                          method=sol.method + " + Lagrangian bound",
                          extra={**sol.extra, "bound_iterations": b["iterations"],
                                 "bound_seconds": round(b["seconds"], 1)})
    elif a.bound:
        raise _usage("--bound goes with --heuristic (the exact methods prove their own bound)")
    elif a.allocation == "multiple":
        sol = solve_multiple(inst, time_limit=time_limit)
    else:
        sol = solve_single(inst, capacitated=capacitated, time_limit=time_limit)
    if a.json:
        print(json.dumps(sol.to_json()))
        return 0
    con = console()
    con.print(f"[bold]{inst.name}[/]: {sol.extra.get('problem', a.allocation + ' allocation')}, "
              f"{inst.n} nodes, p = {len(sol.hubs)}")
    con.print(f"objective {sol.objective:,.2f} ({sol.status}; lower bound {sol.lower_bound:,.2f}, "
              f"gap {sol.gap:.4%}) in {sol.seconds:.2f} s by {sol.method}")
    con.print(f"hubs: {', '.join(map(str, sol.hubs))}")
    if a.allocation == "single":
        con.print("allocation: " + ", ".join(map(str, sol.allocation)))
    return 0


def _cmd_plan_capacity(a) -> int:
    from parcelnet.demand import read_parcels
    from parcelnet.network.pnf import load_network, write_pnf
    from parcelnet.plan.capacity import SORTER_COST_PER_PPM_DAY, plan_capacity
    from parcelnet._ui import console, err_console

    target = _number(a.target, "--target", "a share between 0 and 1")
    scale = _number(a.capacity_scale, "--capacity-scale", "a positive number")
    cost = _number(a.sorter_cost, "--sorter-cost", "a number")
    rounds = _integer(a.rounds, "--rounds")
    trials = _integer(a.trials, "--trials")
    if trials < 0:
        raise _usage(f"--trials must be >= 0, got {trials}")
    if a.out:
        _check_writable("--out", Path(a.out))
    net = load_network(a.network)
    parcels = read_parcels(a.parcels, net)
    say = (lambda r, share: None) if a.json else (
        lambda r, share: err_console().print(f"round {r}: {share:.1%} on time"))
    plan = plan_capacity(net, parcels["parcel_id"].to_numpy(), parcels["created_minute"].to_numpy(),
                         parcels["origin_pos"].to_numpy(), parcels["dest_pos"].to_numpy(),
                         target=target, max_rounds=rounds,
                         sorter_cost=SORTER_COST_PER_PPM_DAY if cost is None else cost,
                         capacity_scale=scale, reverse_sims=trials, progress=say)
    if a.out:
        write_pnf(plan.network, Path(a.out))
    if a.json:
        print(json.dumps({**plan.to_json(), "network": a.out}, default=_json_default))
        return 0
    con = console()
    verdict = "reached" if plan.reached else "[bold red]not reached[/]"
    con.print(f"on time {plan.before['on_time_share']:.1%} -> {plan.after['on_time_share']:.1%} "
              f"(target {target:.0%} {verdict}) after {len(plan.rounds) - 1} rounds; "
              f"added cost {plan.cost_per_day:,.0f} a day (vehicles "
              f"{plan.lanes['cost_per_day'].sum():,.0f}, sorters {plan.sorters['cost_per_day'].sum():,.0f})")
    con.print(f"{len(plan.lanes)} lanes with more vehicles ({plan.lanes['trips_grown'].sum():,} "
              f"departures), {len(plan.sorters)} faster sorters; the most expensive:")
    for r in plan.lanes.head(5).itertuples():
        con.print(f"  {r.lane_id} ({r.mode}): +{r.vehicles_added:,g} vehicles of {r.parcels_per_vehicle:,} "
                  f"on {r.trips_grown} of {r.trips_per_day} departures, {r.capacity_per_day:,} -> "
                  f"{r.new_capacity_per_day:,} a day, {r.cost_per_day:,.0f}")
    for r in plan.sorters.head(5).itertuples():
        con.print(f"  {r.facility_id} {r.name}: {r.sort_per_minute:,} -> {r.new_sort_per_minute:,} "
                  f"a minute, {r.cost_per_day:,.0f}")
    rv = plan.reverse or {}
    if rv.get("simulations"):
        con.print(f"taking back: {rv['reverted']} of the grown trips and sorters could go "
                  f"(saving {rv['cost_saved_per_day']:,.0f} a day) in {rv['simulations']} trial days; "
                  "capacity the day never used is taken back exactly")
    if a.out:
        con.print(f"network with the added capacity -> {a.out}")
    return 0


def _cmd_plan_service(a) -> int:
    from parcelnet.demand import read_parcels
    from parcelnet.network.pnf import load_network, write_pnf
    from parcelnet.plan.service import build_model
    from parcelnet.plan.service_report import apply_design, lane_changes, render_changes, engine_value
    from parcelnet.plan.service_solve import exact, greedy
    from parcelnet.promise.coverage import coverage
    from parcelnet._ui import console, staged_progress

    budget = _number(a.budget, "--budget", "a cost a day")
    target = _number(a.target, "--target", "a share between 0 and 1")
    step = _integer(a.step, "--step")
    tiers = tuple(t.strip() for t in a.tiers.split(",") if t.strip())
    for flag, path in (("--out", a.out), ("--map", a.map)):
        if path:
            _check_writable(flag, Path(path))
    net = load_network(a.network)
    demand = None
    if a.parcels:
        parcels = read_parcels(a.parcels, net)
        demand = (parcels["origin_pos"].to_numpy(), parcels["created_minute"].to_numpy())
    with staged_progress(quiet=a.json) as bar:
        bar("decomposing the network", 0, 1)
        model = build_model(net, demand, tiers=tiers, step=step, new_air=not a.no_new_air)
        bar("decomposing the network", 1, 1)
        if budget is None and target is None:
            budget = model.cost(model.current)        # the same money, spent better
        if a.method == "exact":
            design = exact(model, budget, target, time_limit=_number(a.time_limit, "--time-limit", "seconds"))
        else:
            design = greedy(model, budget, target,
                            progress=lambda d, t: bar("choosing trips", d, t))
        new = apply_design(model, design.active)
        bar("checking with the promise engine", 0, 2)
        checked_before = engine_value(net, model.weights)
        checked = engine_value(new, model.weights)
        bar("checking with the promise engine", 1, 2)
        cov_before, cov_after = (coverage(x).population_share_24h for x in (net, new))
        bar("checking with the promise engine", 2, 2)
    changes = lane_changes(model, design.active)
    counts = changes["status"].value_counts().to_dict()
    before = model.current
    summary = {
        "method": design.method, "budget": budget, "target": target,
        "candidates": len(model.cand), "trips_before": int(before.sum()),
        "trips_after": int(design.active.sum()),
        "cost_before": model.cost(before), "cost_after": design.cost,
        "objective_before": checked_before, "objective_after": checked,
        "objective_upper_bound": design.upper_bound,
        "coverage_24h_before": cov_before, "coverage_24h_after": cov_after,
        "lanes": {k: int(counts.get(k, 0)) for k in ("added", "removed", "more", "fewer", "retimed", "same")},
        "seconds": round(design.seconds, 1), "network": a.out,
        "weights": "demand" if demand is not None else "hubs alike",
    }
    if abs(checked - design.value) > 1e-9:
        raise AssertionError(f"the design's coverage {design.value} differs from the promise "
                             f"engine's {checked}")
    if a.out:
        write_pnf(new, Path(a.out))
        changes.to_csv(Path(a.out) / "service_changes.csv", index=False)
    if a.map:
        title = (f"Service design: coverage {cov_before:.1%} -> {cov_after:.1%}, cost a day "
                 f"{summary['cost_before']:,.0f} -> {summary['cost_after']:,.0f}")
        render_changes(new, changes, title, f"{a.map}.png", f"{a.map}.html", summary)
    if a.json:
        print(json.dumps(summary, default=_json_default))
        return 0
    con = console()
    con.print(f"objective ({summary['weights']}) {checked_before:.2%} -> {checked:.2%} "
              f"(upper bound with every candidate {design.upper_bound:.2%}); checked with the promise engine")
    con.print(f"24 h population coverage from the hubs {cov_before:.2%} -> {cov_after:.2%}")
    con.print(f"backbone cost a day {summary['cost_before']:,.0f} -> {design.cost:,.0f}; trips "
              f"{summary['trips_before']:,} -> {summary['trips_after']:,} ({len(model.cand):,} candidates)")
    con.print("lanes: " + ", ".join(f"{v} {k}" for k, v in summary["lanes"].items()))
    if a.out:
        con.print(f"new network -> {a.out} (changes per lane in service_changes.csv)")
    if a.map:
        con.print(f"map -> {a.map}.png, {a.map}.html")
    return 0


def _cmd_lastmile_solve(a) -> int:
    from parcelnet.lastmile.solomon import read_solomon
    from parcelnet.lastmile.vrp import solve_vrptw
    from parcelnet._ui import console
    seconds = _number(a.seconds, "--seconds", "a number of seconds")
    inst = read_solomon(a.solomon)
    sol = solve_vrptw(inst, seconds, seed=_integer(a.seed, "--seed"))
    if a.json:
        print(json.dumps(sol.to_json()))
        return 0
    con = console()
    con.print(f"{inst.name}: distance {sol.distance:.2f} with {sol.vehicles} vehicles "
              f"({'feasible' if sol.feasible else '[bold red]infeasible[/]'}, {sol.seconds:.1f} s)")
    for k, r in enumerate(sol.routes, 1):
        con.print(f"  route {k}: " + " ".join(map(str, r)))
    return 0


def _cmd_lastmile_matrix(a) -> int:
    import numpy as np
    import pandas as pd
    from parcelnet.geo.routing import LocalRouter
    from parcelnet.geo.streets import load_streets, street_graph
    from parcelnet.lastmile.points import read_points
    src = read_points(a.points, gcj02=a.gcj02)
    dst = read_points(a.to, gcj02=a.gcj02) if a.to else src
    router = LocalRouter(street_graph(load_streets(a.osm), a.mode),
                         max_snap_m=_number(a.max_snap, "--max-snap", "metres"))
    m = router.matrix(src["lat"].to_numpy(), src["lon"].to_numpy(),
                      dst["lat"].to_numpy(), dst["lon"].to_numpy())
    if a.json:
        print(json.dumps({"mode": a.mode, "from": src["id"].tolist(), "to": dst["id"].tolist(),
                          "seconds": [[None if np.isnan(x) else round(float(x), 3) for x in row]
                                      for row in m]}))
    else:
        out = pd.DataFrame(np.round(m, 3), index=src["id"], columns=dst["id"])
        out.index.name = "from"
        if a.out:
            _check_writable("--out", Path(a.out))
            out.to_csv(a.out)
        else:
            print(out.to_csv(), end="")
    return 0


def _cmd_lastmile_plan(a) -> int:
    import pandas as pd
    from parcelnet.geo.streets import load_streets
    from parcelnet.lastmile.station_day import plan_day
    from parcelnet._ui import console
    try:
        lat, lon = (float(x) for x in a.station.split(","))
    except ValueError:
        raise _usage(f"--station must be LAT,LON in degrees, got '{a.station}'") from None
    stops, couriers = (_csv(p) for p in (a.stops, a.couriers))
    ways = load_streets(a.osm)
    plan = plan_day(ways, (lat, lon), stops, couriers, seconds=_number(a.seconds, "--seconds", "seconds"),
                    seed=_integer(a.seed, "--seed"))
    if a.out:
        _check_writable("--out", Path(a.out))
        pd.concat([plan.routes, plan.unassigned.assign(courier_id="")], ignore_index=True).to_csv(a.out, index=False)
    if a.map:
        from parcelnet.lastmile.maps import render_day
        title = (f"{len(plan.routes)} stops by {len(plan.couriers)} couriers, "
                 f"{plan.couriers['travel_s'].sum() / 3600:.1f} h of travel; {len(plan.unassigned)} left out")
        render_day(ways, (lat, lon), stops, couriers, plan, title, f"{a.map}.png", f"{a.map}.html")
    if a.json:
        print(json.dumps(plan.to_json(), default=_json_default))
        return 0
    con = console()
    for r in plan.couriers.itertuples():
        con.print(f"{r.courier_id}: {r.stops} stops, {r.travel_s / 60:.0f} min of travel")
    for r in plan.unassigned.itertuples():
        con.print(f"[bold red]left out[/] {r.stop_id}: {r.reason}")
    return 0


def _cmd_address(a) -> int:
    import pandas as pd
    from parcelnet.lastmile.sortcode import Assigner, assign_addresses
    from parcelnet.network.pnf import load_network
    from parcelnet._ui import console
    if (a.address is None) == (a.input is None):
        raise _usage("give one address, or --in FILE.csv with id,address columns")
    net = load_network(a.network)
    if a.address is not None:
        ids, texts = ["1"], [a.address]
    else:
        df = _csv(a.input)
        for c in ("id", "address"):
            if c not in df.columns:
                from parcelnet.errors import ValidationError
                raise ValidationError(f"missing column '{c}'", file=str(a.input), row=1, field=c)
        ids, texts = df["id"].tolist(), df["address"].tolist()
    out = assign_addresses(net, texts, Assigner(net))
    out.insert(0, "id", ids)
    if a.city_map:
        from parcelnet.geo.routing import LocalRouter
        from parcelnet.geo.streets import load_streets, street_graph
        from parcelnet.lastmile.points import read_points
        from parcelnet.lastmile.sortcode import nearest_by_road
        if not a.stations or a.input is None:
            raise _usage("--city-map needs --stations FILE.csv and --in FILE.csv with lat,lon columns")
        stations = read_points(a.stations, gcj02=a.gcj02)
        pts = read_points(a.input, gcj02=a.gcj02)
        near = nearest_by_road(LocalRouter(street_graph(load_streets(a.city_map), a.mode)), stations,
                               pts["lat"], pts["lon"])
        out["city_station_id"], out["city_station_seconds"] = near["station_id"], near["seconds"]
        out["city_station_reason"] = near["reason"]
    if a.out:
        _check_writable("--out", Path(a.out))
        out.to_csv(a.out, index=False)
        ok = int((out["status"] == "ok").sum())
        console().print(f"{ok:,} of {len(out):,} addresses assigned -> {a.out}")
        return 0
    if a.json or a.address is None:
        print(json.dumps(out.where(pd.notna(out), None).to_dict("records"), ensure_ascii=False,
                         default=_json_default))
        return 0
    r = out.iloc[0]
    con = console()
    names = "".join(x for x in (r["province"], r["prefecture"], r["county"], r["township"]) if isinstance(x, str))
    if r["status"] == "ok":
        con.print(f"{names} | {r['detail']}: station {r['station_id']}, sort code [bold]{r['sort_code']}[/] "
                  f"(WGS-84 {r['lat_wgs84']:.5f},{r['lon_wgs84']:.5f}; GCJ-02 {r['lat_gcj02']:.5f},{r['lon_gcj02']:.5f})")
        return 0
    from parcelnet.errors import ValidationError
    raise ValidationError(f"'{a.address}': {r['reason']}")


def _cmd_o2o_simulate(a) -> int:
    import numpy as np
    import pandas as pd
    from parcelnet.geo.streets import load_streets
    from parcelnet.lastmile.o2o import City, generate_orders, simulate_day
    from parcelnet._ui import console, progress_bar
    riders = _integer(a.riders, "--riders")
    if riders < 1:
        raise _usage(f"--riders must be a positive whole number, got {riders}")
    city = City(load_streets(a.osm))
    rng = np.random.default_rng(_integer(a.seed, "--seed"))
    if a.stores.isdigit():
        k = int(a.stores)
        sn = rng.choice(city.nodes, min(k, len(city.nodes)), replace=False)
        stores = pd.DataFrame({"store_id": [f"st{i}" for i in range(len(sn))], "lat": city.g.lat[sn],
                               "lon": city.g.lon[sn], "stock": 10**6})
    else:
        stores = _csv(a.stores)
        _need(stores, ("store_id", "lat", "lon", "stock"), a.stores)
    if a.orders.isdigit():
        orders = generate_orders(city, int(a.orders), seed=_integer(a.seed, "--seed"),
                                 promise_min=_integer(a.promise, "--promise"))
    else:
        orders = _csv(a.orders)
        _need(orders, ("order_id", "created_s", "lat", "lon"), a.orders)
        if "promise_min" not in orders:
            orders["promise_min"] = _integer(a.promise, "--promise")
    lockers = None
    if a.lockers:
        lockers = _csv(a.lockers)
        _need(lockers, ("locker_id", "lat", "lon", "slots"), a.lockers)
    policies = ["greedy", "pooled"] if a.policy == "both" else [a.policy]
    out = {}
    for pol in policies:
        with progress_bar(f"{pol} day", len(orders), quiet=a.json or not sys.stderr.isatty()) as adv:
            done = [0]

            def step(d, n):
                adv(d - done[0])
                done[0] = d
            res = simulate_day(city, stores, orders, riders, policy=pol, step_s=_integer(a.step, "--step"),
                               capacity=_integer(a.capacity, "--capacity"), lockers=lockers,
                               locker_policy=a.locker_policy, seed=_integer(a.seed, "--seed"), progress=step)
        out[pol] = res
    if a.out:
        _check_writable("--out", Path(a.out))
        out[policies[-1]].orders.to_csv(a.out, index=False)
    if a.map:
        from parcelnet.lastmile.maps import render_rider_day
        res = out[policies[-1]]
        r = int(res.riders["orders"].idxmax())
        render_rider_day(city, res, r, stores, f"rider {r}: {int(res.riders.loc[r, 'orders'])} orders, "
                         f"{res.riders.loc[r, 'metres'] / 1000:.1f} km ({policies[-1]})", f"{a.map}.png")
    kp = {p: r.kpis() for p, r in out.items()}
    if a.json:
        print(json.dumps(kp if len(kp) > 1 else kp[policies[0]], default=_json_default))
        return 0
    con = console()
    for p, k in kp.items():
        con.print(f"[bold]{p}[/]: {k['delivered']:,} of {k['orders']:,} delivered, mean {k['mean_minutes']} min "
                  f"(p50 {k['p50_minutes']}, p90 {k['p90_minutes']}), on time {k['on_time_share']:.1%}, "
                  f"{k['orders_per_trip']} orders a trip, riders busy {k['rider_utilisation']:.0%}, "
                  f"{k['km_per_order']} km an order; decisions up to {k['decision_ms_max']} ms"
                  + (f"; rejected {k['rejected']}" if k["rejected"] else ""))
    if a.map:
        con.print(f"map of the busiest rider's day -> {a.map}.png")
    return 0


def _cmd_lastmile_areas(a) -> int:
    from parcelnet.geo.streets import load_streets
    from parcelnet.lastmile.areas import service_areas
    from parcelnet.lastmile.points import read_points
    from parcelnet._ui import console
    stations = read_points(a.stations, gcj02=a.gcj02)
    ar = service_areas(load_streets(a.osm), stations, a.mode)
    if a.map:
        from parcelnet.lastmile.maps import render_areas
        render_areas(ar, stations, f"Service areas of {len(stations)} stations by road ({a.mode})",
                     f"{a.map}.png", f"{a.map}.html")
    if a.json:
        print(json.dumps(ar.table.to_dict("records"), default=_json_default))
        return 0
    for r in ar.table.itertuples():
        console().print(f"{r.station_id}: {r.nodes} street nodes, {r.street_km} km of street, "
                        f"up to {r.max_minutes} min away (mean {r.mean_minutes})")
    return 0


def _need(df, cols, path) -> None:
    from parcelnet.errors import ValidationError
    for c in cols:
        if c not in df.columns:
            raise ValidationError(f"missing column '{c}'", file=str(path), row=1, field=c)


def _csv(path):
    import pandas as pd
    from parcelnet.errors import ValidationError
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ValidationError("file not found", file=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValidationError(f"not a CSV file ({str(e).splitlines()[0]})", file=str(path)) from None


def _json_default(v):
    import numpy as np
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def _cmd_explain(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.plan.explain import clock, explain
    from parcelnet._ui import console

    net = load_network(a.network)
    at = _integer(a.at, "--at")
    res = explain(net, a.origin, a.destination, at)
    if a.parcels:
        from parcelnet.demand import read_parcels
        from parcelnet.plan.capacity_reason import capacity_reason, order_on_a_day
        scale = _number(a.capacity_scale, "--capacity-scale", "a positive number")
        if res["promise_minute"] is not None:
            sim = order_on_a_day(net, read_parcels(a.parcels, net), a.origin, a.destination, at,
                                 capacity_scale=scale)
            res["simulated"] = sim
            reason = capacity_reason(sim, at, res["within_24h"])
            if reason:
                res["reasons"].append(reason)
    if a.json:
        print(json.dumps(res))
        return 0
    con = console()
    if res["promise_minute"] is None:
        con.print(f"{a.origin} -> {a.destination} at {clock(at)}: no promise")
    else:
        verdict = "within 24 h" if res["within_24h"] else "[bold red]beyond 24 h[/]"
        con.print(f"{a.origin} -> {a.destination}, ordered {clock(at)}: delivered "
                  f"{clock(res['promise_minute'])} ({res['hours']} h, {verdict})")
    for s in res["steps"]:
        if s["step"] == "departure":
            con.print(f"  {s['at']}: ready {clock(s['ready'])}, waits {s['wait']} min, {s['lane']} "
                      f"({s['mode']}) {clock(s['departs'])} -> {s['to']} {clock(s['arrives'])}")
        elif s["step"] == "wave":
            con.print(f"  {s['at']}: ready {clock(s['ready'])}, waits {s['wait']} min for the wave "
                      f"{clock(s['wave_start'])}, delivered {clock(s['delivered'])}")
    sim = res.get("simulated")
    if sim and sim["delivered_minute"] is not None and not any(
            r["reason"] == "capacity limit" for r in res["reasons"]):
        con.print(f"on a simulated day of {sim['parcels']:,} parcels: delivered "
                  f"{clock(sim['delivered_minute'])}, {sim['late_minutes']} min after the promise"
                  + (f" ({sim['limit']['text']})" if sim["limit"] else ""))
    for r in res["reasons"]:
        con.print(f"[bold]{r['reason']}[/]: {r['text']}")
    return 0


def _cmd_demo(a) -> int:
    from parcelnet.demo import run_demo
    return run_demo(Path(a.out), rebuild=a.rebuild)


def _check_writable(flag: str, path: Path) -> None:
    """The nearest existing folder above ``path`` must be a writable directory."""
    base = path.absolute().parent
    while not base.exists():
        base = base.parent
    if not base.is_dir() or not os.access(base, os.W_OK):
        raise _usage(f"{flag} {path}: cannot create its folder ({base} is not a writable folder)")


class _UsageError(ParcelnetError):
    pass


def _usage(msg: str) -> _UsageError:
    return _UsageError(msg)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="parcelnet", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"parcelnet {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build a country's default network (PNF folder or .pnfz)")
    b.add_argument("--country", required=True, help="ISO 3166 alpha-2 code, e.g. CN, US, DE")
    b.add_argument("--out", required=True, help="output folder (or FILE.pnfz)")
    b.add_argument("--params", help="TOML file overriding defaults (see docs/network.md)")
    b.set_defaults(func=_cmd_build)

    i = sub.add_parser("import", help="validate a PNF folder and store it as one .pnfz file")
    i.add_argument("source")
    i.add_argument("--out", required=True)
    i.set_defaults(func=_cmd_import)
    e = sub.add_parser("export", help="write a network (folder or .pnfz) as a PNF folder")
    e.add_argument("network")
    e.add_argument("--out", required=True)
    e.set_defaults(func=_cmd_export)
    v = sub.add_parser("validate", help="check a network against PNF v1")
    v.add_argument("network")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_cmd_validate)
    f = sub.add_parser("find", help="find facilities by id or name")
    f.add_argument("network")
    f.add_argument("text")
    f.add_argument("--kind", choices=["warehouse", "hub", "station", "store", "pickup_point"])
    f.add_argument("--limit", type=int, default=20)
    f.set_defaults(func=_cmd_find)

    q = sub.add_parser("promise", help="when will an order arrive?")
    q.add_argument("network")
    q.add_argument("--from", dest="origin", help="origin facility id")
    q.add_argument("--to", help="destination station id")
    q.add_argument("--at", type=_minute, help="creation minute (absolute; 0 = midnight of day 0)")
    q.add_argument("--json", action="store_true")
    q.add_argument("--batch", help="CSV with query_id,origin,destination,created_minute")
    q.add_argument("--out", help="answers CSV for --batch")
    q.set_defaults(func=_cmd_promise)

    c = sub.add_parser("cutoff", help="latest order time for 24h and next-day delivery")
    c.add_argument("network")
    c.add_argument("--from", dest="origin", required=True)
    c.add_argument("--to", required=True)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_cmd_cutoff)

    g = sub.add_parser("coverage", help="population share reached within 24h, by hour and province, with a map")
    g.add_argument("network")
    g.add_argument("--origin", help="origin facility id (default: mean over every hub)")
    g.add_argument("--json", action="store_true")
    g.add_argument("--map", help="map path prefix (writes PREFIX.png and PREFIX.html)")
    g.add_argument("--parcels", help="a day of parcels: also the share a capacity limit puts beyond 24 h")
    g.add_argument("--capacity-scale", default="1.0",
                   help="the parcels are this share of the day (as parcelnet simulate)")
    g.set_defaults(func=_cmd_coverage)

    m = sub.add_parser("demand", help="a day of parcels (origins, destinations, creation minutes)")
    m.add_argument("network")
    m.add_argument("--parcels", help="number of parcels (default 1,000,000; peak: x 777/545)")
    m.add_argument("--day", default="normal", help="normal or peak (Singles Day; default normal)")
    m.add_argument("--seed", default="0", help="random seed (default 0); same seed, same parcels")
    m.add_argument("--origin-shares", help="TOML of provincial origin shares (see docs/demand.md)")
    m.add_argument("--out", required=True, help="parcels file: Parquet, or CSV when it ends in .csv")
    m.set_defaults(func=_cmd_demand)

    s = sub.add_parser("simulate", help="run a day of parcels through sorters and trips with capacities")
    s.add_argument("network")
    s.add_argument("--parcels", help="parcels file (Parquet, or CSV by extension)")
    s.add_argument("--generate", metavar="N",
                   help="instead of a file: simulate N parcels of the demand model as they are "
                        "sampled (streamed; memory for 777M parcels fits in 24 GB)")
    s.add_argument("--day", help="with --generate: normal or peak (default normal)")
    s.add_argument("--seed", help="with --generate: random seed (default 0), as parcelnet demand")
    s.add_argument("--out", help="per-parcel results (Parquet, or CSV when it ends in .csv)")
    s.add_argument("--json", action="store_true", help="print the KPIs as JSON")
    s.add_argument("--report", help="HTML report path (default RESULTS.html or simulation.html)")
    s.add_argument("--horizon-days", type=int, default=7, help="days after the last creation (default 7)")
    s.add_argument("--capacity-scale", type=float, default=1.0,
                   help="multiply trip capacities and sorter rates (e.g. 0.002 to run a 1/500 sample of a day)")
    s.set_defaults(func=_cmd_simulate)

    pl = sub.add_parser("plan", help="design the network: hub location, service, capacity for a peak day")
    psub = pl.add_subparsers(dest="plan", required=True, metavar="WHAT")
    h = psub.add_parser("hubs", help="hub location solved exactly (HiGHS), on AP or CAB data")
    h.add_argument("--ap", help="OR-Library AP data file (n, coordinates, flows, p, costs)")
    h.add_argument("--cab", help="CAB data file (lines 'i j flow cost'; flows normalised)")
    h.add_argument("--p", help="number of hubs (overrides the AP file's)")
    h.add_argument("--alpha", help="transfer cost factor (required with --cab; overrides AP's)")
    h.add_argument("--allocation", choices=["single", "multiple"], default="single")
    h.add_argument("--fixed", help="AP fixed cost file (FcostX.NN): capacitated problem")
    h.add_argument("--capacity", help="AP capacity file (CapY.NN): capacitated problem")
    h.add_argument("--time-limit", help="seconds for branch and bound; then best + lower bound")
    h.add_argument("--heuristic", action="store_true", help="local search only (large n)")
    h.add_argument("--bound", action="store_true",
                   help="with --heuristic: a proven lower bound by Lagrangian relaxation "
                        "(stops at --target-gap or --time-limit, default 540 s)")
    h.add_argument("--target-gap", default="0.01",
                   help="--bound stops once objective <= (1 + gap) x bound (0.01; 0: at the limit)")
    h.add_argument("--json", action="store_true",
                   help='print {"objective", "hubs", "allocation", ...}; nodes from 1')
    h.set_defaults(func=_cmd_plan_hubs)
    c = psub.add_parser("capacity", help="more vehicles and faster sorters until a day is on time")
    c.add_argument("network")
    c.add_argument("--parcels", required=True, help="a (peak) day of parcels, Parquet or CSV")
    c.add_argument("--target", default="0.95", help="on-time share to reach (default 0.95)")
    c.add_argument("--capacity-scale", default="1.0",
                   help="the parcels are this share of the day (as parcelnet simulate)")
    c.add_argument("--rounds", default="20", help="rounds of growth at most (default 20)")
    c.add_argument("--trials", default="16",
                   help="trial days for taking grown capacity back in blocks (default 16; 0: none)")
    c.add_argument("--sorter-cost", help="cost a day of one parcel a minute of sorter rate (25)")
    c.add_argument("--out", help="write the network with the added capacity (PNF folder)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_cmd_plan_capacity)

    v = psub.add_parser("service", help="which backbone trips to run for 24 h coverage at least cost")
    v.add_argument("network")
    v.add_argument("--parcels", help="a demand day (parcelnet demand) weighting origins and hours; "
                   "default every hub and hour alike")
    v.add_argument("--budget", help="cost a day of the backbone trips (default: today's)")
    v.add_argument("--target", help="coverage share to reach at least cost (instead of --budget)")
    v.add_argument("--tiers", default="linehaul,air", help="lane tiers to design (default linehaul,air)")
    v.add_argument("--step", default="60", help="minutes to which new departure times round (default 60)")
    v.add_argument("--no-new-air", action="store_true", help="no new air links, only the network's lanes")
    v.add_argument("--method", choices=["greedy", "exact"], default="greedy",
                   help="greedy (any size) or exact MIP over chains of trips (small networks)")
    v.add_argument("--time-limit", help="seconds for the exact MIP")
    v.add_argument("--out", help="write the new network (PNF folder) and service_changes.csv")
    v.add_argument("--map", help="write PREFIX.png and PREFIX.html: the lanes added, removed, retimed")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_cmd_plan_service)

    x = sub.add_parser("explain", help="why an order is (not) delivered within 24 hours")
    x.add_argument("network")
    x.add_argument("--from", dest="origin", required=True, help="origin facility id")
    x.add_argument("--to", dest="destination", required=True, help="destination station id")
    x.add_argument("--at", required=True, help="created minute (absolute; 1080 = 18:00 on day 0)")
    x.add_argument("--parcels", help="a day of parcels: simulate the order among them and name "
                   "the capacity limit that makes it late, if any")
    x.add_argument("--capacity-scale", default="1.0",
                   help="the parcels are this share of the day (as parcelnet simulate)")
    x.add_argument("--json", action="store_true")
    x.set_defaults(func=_cmd_explain)

    ad = sub.add_parser("address", help="Chinese address -> divisions, coordinate, station, sort code")
    ad.add_argument("network")
    ad.add_argument("address", nargs="?", help="one address (or --in)")
    ad.add_argument("--in", dest="input", help="CSV with id,address (and lat,lon for --city-map)")
    ad.add_argument("--out", help="CSV of the results (default: JSON on stdout)")
    ad.add_argument("--city-map", help="OSM street map of a city: also the station nearest by road")
    ad.add_argument("--stations", help="CSV id,lat,lon of the city's stations (with --city-map)")
    ad.add_argument("--mode", default="ebike", choices=["car", "ebike", "walk"])
    ad.add_argument("--gcj02", action="store_true", help="lat,lon in the files are GCJ-02")
    ad.add_argument("--json", action="store_true")
    ad.set_defaults(func=_cmd_address)

    lm = sub.add_parser("lastmile", help="street maps and courier routes")
    lsub = lm.add_subparsers(dest="lastmile", required=True, metavar="WHAT")
    ls = lsub.add_parser("solve", help="VRPTW routes by PyVRP on a Solomon instance")
    ls.add_argument("--solomon", required=True, help="Solomon instance file")
    ls.add_argument("--seconds", default="5", help="search time (default 5)")
    ls.add_argument("--seed", default="0")
    ls.add_argument("--json", action="store_true",
                    help='print {"distance", "vehicles", "routes": [[customers in order], ...]}')
    ls.set_defaults(func=_cmd_lastmile_solve)
    lp = lsub.add_parser("plan", help="a station's day: courier routes on the street map (PyVRP)")
    lp.add_argument("osm", help="OpenStreetMap extract (.osm or .osm.pbf)")
    lp.add_argument("--station", required=True, help="LAT,LON of the station (WGS-84)")
    lp.add_argument("--stops", required=True, help="CSV: " + ",".join(
        ("stop_id", "kind", "lat", "lon", "ready_minute", "due_minute", "service_seconds", "size")))
    lp.add_argument("--couriers", required=True,
                    help="CSV: courier_id,mode,shift_start_minute,shift_end_minute,capacity")
    lp.add_argument("--seconds", default="10", help="search time (default 10)")
    lp.add_argument("--seed", default="0")
    lp.add_argument("--out", help="CSV of the stops in visiting order, and those left out with why")
    lp.add_argument("--map", help="write PREFIX.png and PREFIX.html: the routes on the streets")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(func=_cmd_lastmile_plan)
    la = lsub.add_parser("areas", help="station service areas by road on a street map")
    la.add_argument("osm", help="OpenStreetMap extract (.osm or .osm.pbf)")
    la.add_argument("--stations", required=True, help="CSV id,lat,lon (WGS-84 unless --gcj02)")
    la.add_argument("--mode", default="ebike", choices=["car", "ebike", "walk"])
    la.add_argument("--gcj02", action="store_true")
    la.add_argument("--map", help="write PREFIX.png and PREFIX.html")
    la.add_argument("--json", action="store_true")
    la.set_defaults(func=_cmd_lastmile_areas)
    lx = lsub.add_parser("matrix", help="travel seconds between points on an OSM street map")
    lx.add_argument("osm", help="OpenStreetMap extract (.osm or .osm.pbf)")
    lx.add_argument("--points", required=True, help="CSV with id,lat,lon (WGS-84 unless --gcj02)")
    lx.add_argument("--to", help="CSV of destinations (default: the points themselves)")
    lx.add_argument("--mode", default="car", choices=["car", "ebike", "walk"])
    lx.add_argument("--gcj02", action="store_true", help="the points are GCJ-02 (Chinese maps)")
    lx.add_argument("--max-snap", default="500", help="metres from a road beyond which a point is unreachable")
    lx.add_argument("--out", help="CSV: rows from, columns to, seconds (default: stdout)")
    lx.add_argument("--json", action="store_true")
    lx.set_defaults(func=_cmd_lastmile_matrix)

    oo = sub.add_parser("o2o", help="instant delivery from stores by riders on a street map")
    osub = oo.add_subparsers(dest="o2o", required=True, metavar="WHAT")
    os_ = osub.add_parser("simulate", help="simulate a day of orders, stores and riders")
    os_.add_argument("osm", help="OpenStreetMap extract of the city (.osm or .osm.pbf)")
    os_.add_argument("--stores", default="8", help="CSV store_id,lat,lon,stock, or a number of random stores")
    os_.add_argument("--orders", default="3000", help="CSV order_id,created_s,lat,lon[,units,promise_min,"
                     "to_locker], or a number of orders on the daily curve")
    os_.add_argument("--riders", required=True, help="number of riders (e-bikes)")
    os_.add_argument("--policy", default="both", choices=["pooled", "greedy", "both"])
    os_.add_argument("--step", default="30", help="seconds between dispatch decisions (default 30)")
    os_.add_argument("--capacity", default="3", help="orders a rider carries at most (default 3)")
    os_.add_argument("--promise", default="30", help="promised minutes when the orders do not say (30)")
    os_.add_argument("--lockers", help="CSV locker_id,lat,lon,slots: pickup points")
    os_.add_argument("--locker-policy", default="customer", choices=["customer", "nearby"],
                     help="customer: only orders that chose a locker; nearby: any within 300 m of a free one")
    os_.add_argument("--seed", default="0")
    os_.add_argument("--out", help="CSV of the orders (store, rider, delivered, minutes, status, reason)")
    os_.add_argument("--map", help="write PREFIX.png: the busiest rider's day on the streets")
    os_.add_argument("--json", action="store_true")
    os_.set_defaults(func=_cmd_o2o_simulate)

    d = sub.add_parser("demo", help="build China's network, show coverage, promises and a map")
    d.add_argument("--out", default="parcelnet-demo", help="working folder (default ./parcelnet-demo)")
    d.add_argument("--rebuild", action="store_true", help="rebuild the network even if present")
    d.set_defaults(func=_cmd_demo)
    return p


def _minute(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer minute") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{v} is negative; minutes count from midnight of day 0")
    from parcelnet.promise.engine import MAX_CREATED_MINUTE
    if v > MAX_CREATED_MINUTE:
        raise argparse.ArgumentTypeError(f"{v} is too large (at most {MAX_CREATED_MINUTE})")
    return v


def _one_line(text: str) -> str:
    """Escape line breaks and other control characters (e.g. in a quoted CSV value)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except ParcelnetError as e:
        print(f"parcelnet: error: {_one_line(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:
        msg = f"{e.filename or ''}: {e.strerror or e}"
        print(f"parcelnet: error: {_one_line(msg)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("parcelnet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
