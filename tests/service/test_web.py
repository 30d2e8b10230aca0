"""The web page in a real browser: Debian's Chromium, headless, driven by Playwright. The
page loads with no console errors, draws its hubs (on the page and on a screenshot), and a
waybill search shows the parcel's timeline and path."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest

from .conftest import NOW, Service
from .test_tracking import journey, post_scans

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("PARCELNET_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("PARCELNET_REQUIRE_BROWSER") == "1":   # CI installs it
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser, url, key):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/")
    page.fill("#key", key)
    page.click("#use-key")
    page.wait_for_selector("body[data-ready=network]", timeout=30_000)
    return page, errors


def test_the_page_loads_and_draws_its_hubs(browser, live, cn_gravity):
    url, svc = live
    page, errors = open_page(browser, url, svc.keys["platform"]["Authorization"].split()[1])
    tiers = cn_gravity.facilities["tier"].value_counts()
    hubs = int(tiers["hub"] + tiers["air_hub"])
    assert page.locator("path.pn-hub").count() + page.locator("path.pn-air_hub").count() == hubs
    assert page.locator("path.pn-centre").count() == int(tiers["centre"])
    page.wait_for_function("document.getElementById('coverage').textContent.includes('% of the population')")
    name = cn_gravity.facilities.set_index("facility_id").loc["C3301", "name"]
    assert page.inner_text("#coverage").endswith(f"at 18:00 from {name}")
    # the screenshot holds the hubs' red: at least a few pixels of it per hub
    from PIL import Image
    import numpy as np
    shot = np.asarray(Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")).astype(int)
    red = (abs(shot[..., 0] - 229) < 25) & (abs(shot[..., 1] - 57) < 25) & (abs(shot[..., 2] - 53) < 25)
    assert red.sum() >= 10 * hubs, red.sum()
    assert errors == []
    page.close()


def test_a_waybill_search_shows_its_timeline(browser, live):
    url, svc = live
    wb = svc.post("/v1/shipments", {
        "sender": {"name": "张三", "phone": "13800138000", "address": "浙江省杭州市西湖区文三路90号"},
        "recipient": {"name": "李四", "phone": "13900139000", "address": "北京市朝阳区建国路88号1号楼101室"},
        "parcel": {"weight_g": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100, "contents": "图书"},
        "carrier": "sf"}).json()["waybill"]
    svc.now = NOW + timedelta(days=3)
    post_scans(svc, journey(wb, "web", late=True)[:5])
    page, errors = open_page(browser, url, svc.keys["shop"]["Authorization"].split()[1])
    page.fill("#waybill", wb)
    page.click("#track")
    page.wait_for_selector(f"body[data-tracked={wb}]", timeout=15_000)
    items = page.locator("li.pn-event")
    assert items.count() == 5
    assert "picked up" in items.nth(0).inner_text() and "arrived" in items.nth(4).inner_text()
    assert page.locator("path.pn-path").count() == 1 and page.locator("path.pn-scan").count() == 5
    assert "in_transit" in page.inner_text("#parcel") and "promise v2" in page.inner_text("#parcel")
    page.wait_for_function("document.getElementById('volumes').textContent.includes('1 parcels')")
    assert page.locator("path.pn-volume").count() == 1
    # an unknown number: a message on the page, not a console error
    page.fill("#waybill", "PN000000000010")
    page.click("#track")
    page.wait_for_function("document.getElementById('message').textContent.includes('no waybill')")
    assert errors == [], errors
    page.close()
