"""``parcelnet demo --serve``: the service starts on a fresh SQLite file, prints its page and
keys, and a replayed day reaches it."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


@pytest.mark.long
def test_demo_serve(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "parcelnet.cli", "demo", "--serve", "--port", str(port),
                             "--parcels", "60", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.time() + 180
        while time.time() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()
            lines.append(line)
            if line.startswith("merchant key:"):
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in text
        key = re.search(r"every tenant's parcels:\s+(pn_\S+)", text).group(1)
        seen = 0
        while time.time() < deadline and seen == 0:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/map/volumes",
                                         headers={"Authorization": f"Bearer {key}"})
            seen = sum(json.loads(urllib.request.urlopen(req, timeout=10).read())["volumes"].values())
            time.sleep(0.5)
        assert seen > 0                      # the replay's parcels are on the map
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "leaflet.js" in page
        assert (tmp_path / "service.db").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
