"""Ray is optional (the ``ray`` extra): without it nothing imports Ray, a split day runs
with ``--engine local``, and ``--engine ray`` is one line naming the extra to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import FIXTURES

CODE = textwrap.dedent("""
    import sys
    sys.modules["ray"] = None                  # as if not installed: importing it fails
    from parcelnet.cli import main
    import parcelnet.sweep, parcelnet.sweep.partitioned, parcelnet.sim.partition  # noqa
    from parcelnet.demand import generate_parcels, write_parcels
    net, out = sys.argv[1], sys.argv[2]
    write_parcels(generate_parcels(net, 500, "peak", seed=1), out + "/p.csv")
    base = ["simulate", net, "--parcels", out + "/p.csv", "--report", out + "/r.html"]
    assert main(base + ["--partitions", "2", "--out", out + "/split.csv"]) == 0
    assert main(base + ["--out", out + "/one.csv"]) == 0
    assert open(out + "/split.csv").read() == open(out + "/one.csv").read()
    print("ray-exit", main(base + ["--engine", "ray", "--partitions", "2"]))
    print("imported", [m for m in sys.modules if m == "ray" or m.startswith("ray.")])
""")


def test_nothing_imports_ray_and_local_partitions_work_without_it(tmp_path):
    r = subprocess.run([sys.executable, "-c", CODE, str(FIXTURES / "tiny"), str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "ray-exit 2" in r.stdout and "imported ['ray']" in r.stdout  # only our None
    assert "needs the 'ray' package: pip install 'parcelnet[ray]'" in r.stderr
