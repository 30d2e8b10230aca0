"""Networks in the PNF v1 format: load, validate, write, derive variants, and lay them out from
geography (the default build's pipeline is :func:`parcelnet.plan.build_network`)."""

from parcelnet.network.model import Network, Timetable
from parcelnet.network.params import Params, load_params
from parcelnet.network.pnf import load_network, read_bundle, write_bundle, write_pnf

__all__ = ["Network", "Params", "Timetable", "load_network", "load_params", "read_bundle",
           "write_bundle", "write_pnf"]
