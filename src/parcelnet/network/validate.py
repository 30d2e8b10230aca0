"""Checks of what a network can serve, beyond the format (``parcelnet validate``).

PNF v1 (:meth:`Network.from_tables`) accepts any network whose files are well formed, so
partial networks can be loaded and edited. These checks ask whether the network can do its
job; what they find is legal PNF but almost certainly a mistake:

- a station that no lane leads to can only deliver parcels created at the station itself.

``parcelnet validate`` reports each as a warning, or as an error with ``--strict``.
"""

from __future__ import annotations

import numpy as np

from parcelnet.errors import ValidationError
from parcelnet.network.model import Network


def service_problems(network: Network) -> list[ValidationError]:
    """What the network cannot serve, one error per problem (file, line, field, reason)."""
    tt = network.timetable
    inbound = np.diff(tt.in_ptr) > 0
    out = []
    for i in network.stations[~inbound[network.stations]]:
        out.append(ValidationError(
            f"station '{network.facility_index[int(i)]}' has no inbound lane in lanes.csv: only "
            "parcels created at the station itself can be delivered to it",
            file="facilities.csv", row=int(i) + 2, field="facility_id"))
    return out
