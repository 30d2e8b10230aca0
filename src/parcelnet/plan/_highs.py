"""A sparse MIP into HiGHS (highspy) and back: the one place parcelnet talks to the solver."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from parcelnet.errors import ParameterError

_banner_done = False


def _highs():
    """A quiet Highs object (HiGHS prints a banner to stdout on its first construction in a
    process; it would break ``--json`` output, so it goes to /dev/null)."""
    global _banner_done
    import highspy
    if _banner_done:
        h = highspy.Highs()
    else:
        fd = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(fd, 1)
            os.close(fd)
            os.close(null)
        _banner_done = True
    h.setOptionValue("output_flag", False)
    return h


class Rows:
    """A constraint matrix built block by block: ``add(rows, cols, values, lower, upper)`` with
    rows numbered within the block; ``matrix(n_cols)`` and the row bounds at the end."""

    def __init__(self):
        self.rows, self.cols, self.vals, self.lo, self.hi = [], [], [], [], []
        self.n = 0

    def add(self, r, c, v, lower, upper) -> None:
        self.rows.append(np.asarray(r) + self.n)
        self.cols.append(np.asarray(c))
        self.vals.append(np.asarray(v, np.float64))
        self.lo.append(np.asarray(lower, np.float64))
        self.hi.append(np.asarray(upper, np.float64))
        self.n += len(self.lo[-1])

    def matrix(self, n_cols: int) -> tuple[sparse.coo_matrix, np.ndarray, np.ndarray]:
        a = sparse.coo_matrix((np.concatenate(self.vals),
                               (np.concatenate(self.rows), np.concatenate(self.cols))),
                              shape=(self.n, n_cols))
        return a, np.concatenate(self.lo), np.concatenate(self.hi)


def lp_model(cost, a: sparse.csc_matrix, row_lo, row_hi, col_lo, col_hi):
    """A HighsLp of min cost x, row_lo <= A x <= row_hi, col_lo <= x <= col_hi (A as CSC)."""
    import highspy
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
    lp.col_cost_ = np.asarray(cost, np.float64)
    lp.col_lower_ = np.asarray(col_lo, np.float64)
    lp.col_upper_ = np.asarray(col_hi, np.float64)
    lp.row_lower_ = np.asarray(row_lo, np.float64)
    lp.row_upper_ = np.asarray(row_hi, np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    return lp


def quiet_highs(options: dict | None = None, log: bool = False):
    """A Highs object with the given options, logging only when asked."""
    h = _highs()
    if log:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", True)
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
    return h


@dataclass(frozen=True)
class MipResult:
    x: np.ndarray            # column values of the best solution (empty when none)
    objective: float         # of that solution (inf when none)
    bound: float             # proven lower bound (minimisation)
    status: str              # "optimal", "time limit", "infeasible", ...
    seconds: float


def solve_mip(cost, a: sparse.spmatrix, row_lo, row_hi, col_lo, col_hi, integer: np.ndarray,
              time_limit: float | None = None, start: np.ndarray | None = None,
              rel_gap: float = 1e-9, abs_gap: float = 1e-6, log: bool = False,
              options: dict | None = None) -> MipResult:
    """min cost x s.t. row_lo <= A x <= row_hi, col_lo <= x <= col_hi, x[integer] integral."""
    import highspy
    t0 = time.perf_counter()
    a = sparse.csc_matrix(a)
    lp = lp_model(cost, a, row_lo, row_hi, col_lo, col_hi)
    kinds = np.where(integer, 1, 0)
    if kinds.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
                           for k in kinds]
    h = quiet_highs(log=log)
    h.passModel(lp)
    h.setOptionValue("mip_rel_gap", rel_gap)
    h.setOptionValue("mip_abs_gap", abs_gap)
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
    if time_limit is not None:
        if not time_limit > 0:
            raise ParameterError(f"time limit must be positive, got {time_limit}")
        h.setOptionValue("time_limit", float(time_limit))
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, np.float64)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.modelStatusToString(h.getModelStatus()).lower()
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value, np.float64)
    has = info.primal_solution_status >= 2 and len(x) == lp.num_col_
    obj = float(info.objective_function_value) if has else float("inf")
    bound = float(info.mip_dual_bound) if kinds.any() else obj
    if status == "optimal":
        bound = min(bound, obj)
    return MipResult(x if has else np.zeros(0), obj, bound, status, time.perf_counter() - t0)
