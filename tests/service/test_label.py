"""The label: 76 x 130 mm, every barcode and QR code decoded from the rendered page (zxing-cpp
over pypdfium2's rendering) and compared with the waybill, personal data masked as
GB/T 41833 asks, and the ZPL for thermal printers."""

from __future__ import annotations

import re

import pytest

from parcelnet_service.label import mask_address, mask_name, mask_phone

from .conftest import shipment

pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp")

MM = 72 / 25.4


@pytest.mark.parametrize("name, want", [("李四", "李*"), ("欧阳娜娜", "欧***"), ("王", "*"),
                                        ("Li Si", "L****"), ("  张三 ", "张*")])
def test_names_hide_at_least_one_character(name, want):
    assert mask_name(name) == want


@pytest.mark.parametrize("phone, want", [("13900139000", "139******00"),
                                         ("+86 139-0013-9000", "139******00"),
                                         ("010-12345678", "010******78"),
                                         ("0571 8888 7777", "057******777"),
                                         ("1234567", "*******")])
def test_phones_hide_six_digits(phone, want):
    got = mask_phone(phone)
    assert got == want and got.count("*") >= 6


@pytest.mark.parametrize("address, want", [
    ("北京市朝阳区建国路88号1号楼101室", "北京市朝阳区建国路88号1号楼***室"),
    ("上海市浦东新区世纪大道100号B1203房", "上海市浦东新区世纪大道100号*****房"),
    ("杭州市西湖区文三路90号5-3-201", "杭州市西湖区文三路90号5-3-***"),
    ("浙江省杭州市西湖区文三路90号", "浙江省杭州市西湖区文三路90号")])
def test_addresses_hide_the_room(address, want):
    assert mask_address(address) == want


def pages(pdf_bytes: bytes):
    doc = pdfium.PdfDocument(pdf_bytes)
    for i in range(len(doc)):
        page = doc[i]
        codes = {(r.format.name if hasattr(r.format, "name") else str(r.format), r.text)
                 for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())}
        yield page.get_size(), codes, page.get_textpage().get_text_range()


def test_the_pdf_label_decodes_to_its_waybill_and_hides_personal_data(service):
    wb = service.post("/v1/shipments", shipment()).json()["waybill"]
    r = service.client.get(f"/v1/shipments/{wb}/label", headers=service.keys["shop"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    (size, codes, text), = list(pages(r.content))
    assert size == pytest.approx((76 * MM, 130 * MM), abs=0.5)
    formats = {f.replace(" ", "").lower(): t for f, t in codes}
    assert formats == {"code128": wb, "qrcode": wb}
    assert "H01-S110105-00" in text and wb in text
    assert "李*" in text and "139******00" in text and "1号楼***室" in text
    for private in ("李四", "13900139000", "101室", "张三", "13800138000"):
        assert private not in text


def test_one_page_per_piece_each_with_its_own_number(service):
    body = service.post("/v1/shipments", shipment(pieces=[{"weight_g": 400}, {"weight_g": 800}])).json()
    kids = [p["waybill"] for p in body["pieces"]]
    r = service.client.get(f"/v1/shipments/{body['waybill']}/label", headers=service.keys["shop"])
    got = list(pages(r.content))
    assert len(got) == 2
    for (size, codes, text), kid, n in zip(got, kids, (1, 2)):
        assert {t for _, t in codes} == {kid} and len(codes) == 2
        assert f"母单 {body['waybill']}" in text and f"{n}/2" in text


def test_bulk_labels_and_zpl(service):
    a = service.post("/v1/shipments", shipment()).json()["waybill"]
    b = service.post("/v1/shipments", shipment(service_level="next_day")).json()["waybill"]
    r = service.post("/v1/labels", {"waybills": [a, b]})
    assert r.status_code == 200
    assert [{t for _, t in c} for _, c, _ in pages(r.content)] == [{a}, {b}]
    z = service.post("/v1/labels", {"waybills": [a, b], "format": "zpl"})
    assert z.headers["content-type"].startswith("text/plain")
    blocks = re.findall(r"\^XA.*?\^XZ", z.text, flags=re.S)
    assert len(blocks) == 2
    for blk, wb in zip(blocks, (a, b)):
        assert "^PW608" in blk and "^LL1040" in blk and "^CI28" in blk
        assert re.search(r"\^BCN,[^\^]*\^FD" + wb + r"\^FS", blk)
        assert f"^BQN,2,5^FDMA,{wb}^FS" in blk
        assert "李*" in blk and "139******00" in blk and "李四" not in blk and "13900139000" not in blk
    assert service.post("/v1/labels", {"waybills": [a], "format": "png"}).status_code == 422
    # another merchant's number, even among one's own, gets nothing
    assert service.post("/v1/labels", {"waybills": [a]}, as_="other-shop").status_code == 404
    assert service.client.get(f"/v1/shipments/{a}/label?format=gif",
                              headers=service.keys["shop"]).status_code == 422
