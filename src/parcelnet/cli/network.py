"""Network commands: build, import, export, validate, find."""

from __future__ import annotations

import sys
from pathlib import Path

from parcelnet.cli._common import UsageError, add_json, integer, print_json, warn
from parcelnet.network.schema import FACILITY_KINDS


def build(a) -> int:
    from parcelnet.network.params import load_params
    from parcelnet.network.pnf import BUNDLE_SUFFIX, write_bundle, write_pnf
    from parcelnet.plan.build import build_network
    from parcelnet.viz.console import console, timed

    params = load_params(a.country, a.params)
    with timed(f"Building the {a.country.upper()} network") as progress:
        net = build_network(a.country, params, progress=progress)
    out = Path(a.out)
    (write_bundle if out.suffix == BUNDLE_SUFFIX else write_pnf)(net, out)
    s = net.summary()
    console().print(f"[bold]{a.country.upper()}[/]: {s.get('hubs', 0)} hubs (centres and regional), "
                    f"{s.get('stations', 0)} stations, {s['lanes']} lanes, {s['trips']} trips, "
                    f"{s['places']} places -> {out}")
    console().print(cost_line(net, params))
    return 0


def cost_line(net, params) -> str:
    """One line: the network's daily cost per parcel (line-haul plus sorting) next to ZTO's."""
    from parcelnet.network.costs import ZTO_2023, daily_cost
    c = daily_cost(net, params)
    return (f"cost per parcel: line-haul {c.line_haul_per_parcel:.2f} + sorting "
            f"{c.sorting_per_parcel:.2f} = {c.per_parcel:.2f} CNY ({c.sorting_lines:,} sorting lines "
            f"in {c.sorting_sites:,} centres, {c.trucks:,} trucks and {c.flights:,} freighters a day; "
            f"ZTO 2023: {ZTO_2023['line_haul']:.2f} + {ZTO_2023['sorting']:.2f})")


def import_(a) -> int:
    from parcelnet.network.pnf import BUNDLE_SUFFIX, load_network, write_bundle
    if Path(a.out).suffix != BUNDLE_SUFFIX:
        raise UsageError(f"import writes a bundle: --out must end in {BUNDLE_SUFFIX}, got '{a.out}'")
    net = load_network(a.source)
    write_bundle(net, a.out)
    print(f"imported {a.source} -> {a.out} ({net.summary()['lanes']} lanes)")
    return 0


def export(a) -> int:
    from parcelnet.network.pnf import load_network, write_pnf
    write_pnf(load_network(a.network), a.out)
    print(f"exported {a.network} -> {a.out}")
    return 0


def validate(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.network.validate import service_problems
    net = load_network(a.network)
    for problem in service_problems(net):
        if a.strict:
            raise problem
        warn(str(problem))
    s = net.summary()
    if a.json:
        print_json({"valid": True, **s})
    else:
        print("valid PNF v1: " + ", ".join(f"{v} {k}" for k, v in s.items()))
    return 0


def find(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.viz.text import facility_table
    limit = integer(a.limit, "--limit", 1)
    if not a.text.strip():
        raise UsageError("give some text to look for: an id, a name or a place")
    hit = load_network(a.network).find(a.text, a.kind, limit=None)
    if hit.empty:
        print(f"no facility id or name contains '{a.text}' (nor does a place one serves)",
              file=sys.stderr)
        return 1
    if a.json:
        print_json(hit.head(limit).drop(columns=["match"]))
        return 0
    facility_table(hit.head(limit), f"{len(hit)} facilities match '{a.text}', best first"
                   + (f" (first {limit})" if len(hit) > limit else ""))
    return 0


def register(sub) -> None:
    b = sub.add_parser("build", help="build a country's default network (PNF folder or .pnfz)",
                       description="Build a country's default parcel network from the packaged "
                                   "geography: stations, sorting centres, hubs, lanes, a timetable "
                                   "and capacities (docs/network.md).")
    b.add_argument("--country", required=True, help="ISO 3166 alpha-2 code, e.g. CN, US, DE")
    b.add_argument("--out", required=True, help="output folder (or FILE.pnfz for one bundle file)")
    b.add_argument("--params", help="TOML file overriding default parameters (docs/network.md)")
    b.set_defaults(func=build)

    i = sub.add_parser("import", help="validate a PNF folder and store it as one .pnfz file")
    i.add_argument("source", help="PNF folder")
    i.add_argument("--out", required=True, help="bundle file to write (FILE.pnfz)")
    i.set_defaults(func=import_)

    e = sub.add_parser("export", help="write a network (folder or .pnfz) as a PNF folder")
    e.add_argument("network", help="PNF folder or .pnfz bundle")
    e.add_argument("--out", required=True, help="folder to write (created if missing)")
    e.set_defaults(func=export)

    v = sub.add_parser("validate", help="check a network against PNF v1, and warn about stations "
                                        "it cannot serve")
    v.add_argument("network", help="PNF folder or .pnfz bundle")
    add_json(v, "the network's summary")
    v.add_argument("--strict", action="store_true",
                   help="treat what the network cannot serve (a station no lane leads to) as an "
                        "error, not a warning")
    v.set_defaults(func=validate)

    f = sub.add_parser("find", help="find facilities by id, name or the places they serve",
                       description="Find facilities by id, by name, or by the names of the places "
                                   "they serve (Chinese names too); whole-word matches first.")
    f.add_argument("network", help="PNF folder or .pnfz bundle")
    f.add_argument("text", help="text to look for, e.g. hangzhou, 杭州, C3301")
    f.add_argument("--kind", choices=FACILITY_KINDS, help="only facilities of this kind")
    f.add_argument("--limit", default="20", help="show at most this many (default 20)")
    add_json(f, "the matches")
    f.set_defaults(func=find)
