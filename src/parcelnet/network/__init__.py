"""Networks in the PNF v1 format: load, validate, write, and build from geography."""

from parcelnet.network.build import build_network
from parcelnet.network.model import Network, Timetable
from parcelnet.network.params import load_params
from parcelnet.network.pnf import load_network, read_bundle, write_bundle, write_pnf

__all__ = ["Network", "Timetable", "build_network", "load_network", "load_params",
           "read_bundle", "write_bundle", "write_pnf"]
