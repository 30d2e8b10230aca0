"""Network design (issue 4): hub location checked against published optima."""

from parcelnet.plan.hubdata import HubInstance, read_ap, read_cab
from parcelnet.plan.hubs import HubSolution, local_search, solve_multiple, solve_single

__all__ = ["HubInstance", "HubSolution", "local_search", "read_ap", "read_cab", "solve_multiple",
           "solve_single"]
