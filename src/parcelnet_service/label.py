"""The shipping label: a PDF of 76 x 130 mm and the same in ZPL for thermal printers.

Zones, top to bottom, as GB/T 41833-2022《快递电子运单》 lays them out: the service and
date; the **sort code** (三段码) printed large, for the sorters; a **Code 128** barcode of
the waybill number with the number in clear; the recipient; the sender; contents, weight
and piece; the signature box; a **QR code** of the waybill number. A multi-piece shipment
gets one label per piece, each with its own child number and the parent's in clear.

**Privacy** (the standard's masking of personal data on the label):

- a name keeps its first character and hides the rest, so at least one is hidden
  (张三 -> 张*, 欧阳娜娜 -> 欧***; a one-character name is hidden whole);
- a phone number hides six digits: the ones after the first three of a mobile number
  (139******00), and the middle ones of any other;
- an address hides its room: the number before 室, 房 or 户, and the last part of a
  building-unit-room number such as 5-3-201.

**Fonts.** The PDF embeds (a subset of) a CJK TrueType font, so every viewer and printer
shows the Chinese text: ``PARCELNET_LABEL_FONT`` names one, else the first of
:data:`FONT_PATHS` found (Debian: ``apt install fonts-wqy-microhei``). Without one it falls
back to Adobe's STSong-Light, which is not embedded: Acrobat shows it, many other viewers
do not, and a warning says so. The barcodes need no font.

The ZPL is for 203 dpi printers (8 dots/mm: 608 x 1040 dots), with native barcode commands
(^BC, ^BQ) so the printer draws them sharp. Its Chinese text needs a CJK font on the printer,
named by :data:`ZPL_CJK_FONT`.
"""

from __future__ import annotations

import io
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from parcelnet._deps import require

log = logging.getLogger("parcelnet.service")
FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
              "/usr/share/fonts/truetype/arphic/uming.ttc")

WIDTH_MM, HEIGHT_MM = 76, 130
ZPL_DOTS_PER_MM = 8
ZPL_CJK_FONT = "E:SIMSUN.TTF"


def mask_name(name: str) -> str:
    name = name.strip()
    return "*" if len(name) <= 1 else name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 8:                              # too short to show any of it
        return "*" * len(digits)
    if len(digits) == 11 and digits[0] == "1":       # mobile: 139******00
        return digits[:3] + "*" * 6 + digits[9:]
    keep = len(digits) - 6
    head = keep // 2 + keep % 2
    return digits[:head] + "*" * 6 + digits[len(digits) - (keep - head):]


_ROOM = re.compile(r"[A-Za-z]?\d+[A-Za-z]?(?=\s*(?:室|房|户))")
_BUR = re.compile(r"(\d+-\d+-)(\d+)")


def mask_address(address: str) -> str:
    out = _ROOM.sub(lambda m: "*" * len(m.group(0)), address)
    return _BUR.sub(lambda m: m.group(1) + "*" * len(m.group(2)), out)


@dataclass(frozen=True)
class LabelData:
    waybill: str               # this label's number (a piece's, or the parent's)
    parent: str | None         # the parent's number on a piece's label
    piece: str                 # "1/1", "2/3"
    sort_code: str
    dest_station: str
    service_level: str
    created: str               # YYYY-MM-DD HH:MM (CST)
    promise: str | None        # YYYY-MM-DD HH:MM (CST)
    recipient: tuple[str, str, str]      # name, phone, address: masked
    sender: tuple[str, str, str]
    contents: str
    weight_g: int


def labels_of(s) -> list[LabelData]:
    """The labels of a shipment (a :class:`parcelnet_service.db.models.Shipment`)."""
    from parcelnet_service.shipments import CST
    kids = [b for b in s.waybills if b.piece > 0]
    p = s.promises[-1] if s.promises else None
    common = dict(sort_code=s.sort_code, dest_station=s.dest_station, service_level=s.service_level,
                  created=s.created_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
                  promise=None if p is None or p.promise_at is None
                  else p.promise_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
                  recipient=(mask_name(s.recipient_name), mask_phone(s.recipient_phone),
                             mask_address(s.recipient_address)),
                  sender=(mask_name(s.sender_name), mask_phone(s.sender_phone),
                          mask_address(s.sender_address)),
                  contents=s.contents)
    if not kids:
        return [LabelData(waybill=s.waybill, parent=None, piece="1/1", weight_g=s.weight_g, **common)]
    return [LabelData(waybill=b.number, parent=s.waybill, piece=f"{b.piece}/{len(kids)}",
                      weight_g=b.weight_g, **common) for b in kids]


def cjk_font() -> str:
    """The registered name of the label's CJK font (module docs)."""
    require("reportlab", "service", "shipping labels")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    if "PNCJK" in pdfmetrics.getRegisteredFontNames():
        return "PNCJK"
    for path in ([os.environ["PARCELNET_LABEL_FONT"]] if os.environ.get("PARCELNET_LABEL_FONT")
                 else FONT_PATHS):
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont("PNCJK", path, subfontIndex=0))
            return "PNCJK"
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        log.warning("no CJK TrueType font found (PARCELNET_LABEL_FONT, or apt install "
                    "fonts-wqy-microhei): labels use STSong-Light, which many viewers cannot show")
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _wrap(text: str, width: float, font: str, size: float, stringWidth) -> list[str]:
    lines, cur = [], ""
    for ch in text:
        if stringWidth(cur + ch, font, size) > width and cur:
            lines.append(cur)
            cur = ch
        else:
            cur += ch
    return lines + ([cur] if cur else [])


def pdf(labels: list[LabelData]) -> bytes:
    """One page of 76 x 130 mm per label."""
    require("reportlab", "service", "shipping labels")
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode import code128
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    cjk, sw = cjk_font(), pdfmetrics.stringWidth
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(WIDTH_MM * mm, HEIGHT_MM * mm), invariant=1)
    c.setTitle("parcelnet label")
    W, H, m = WIDTH_MM * mm, HEIGHT_MM * mm, 3 * mm
    for lab in labels:
        c.setLineWidth(0.6)
        c.rect(m / 2, m / 2, W - m, H - m)
        # 1. service and date
        c.setFont(cjk, 8)
        c.drawString(m, H - m - 6, f"parcelnet 电子运单  {'次日达' if lab.service_level == 'next_day' else '标准快递'}")
        c.drawRightString(W - m, H - m - 6, lab.created)
        c.line(m / 2, H - 12 * mm, W - m / 2, H - 12 * mm)
        # 2. the sort code, large
        size = 26
        while sw(lab.sort_code, "Helvetica-Bold", size) > W - 2 * m:
            size -= 1
        c.setFont("Helvetica-Bold", size)
        c.drawCentredString(W / 2, H - 23 * mm, lab.sort_code)
        c.line(m / 2, H - 27 * mm, W - m / 2, H - 27 * mm)
        # 3. Code 128 of the waybill, the number in clear
        bar = code128.Code128(lab.waybill, barHeight=15 * mm, barWidth=0.38 * mm, quiet=True,
                              lquiet=4 * mm, rquiet=4 * mm)
        bar.drawOn(c, (W - bar.width) / 2, H - 45 * mm)
        c.setFont("Helvetica", 10)
        c.drawCentredString(W / 2, H - 49 * mm, lab.waybill)
        if lab.parent:
            c.setFont(cjk, 7)
            c.drawCentredString(W / 2, H - 52.5 * mm, f"母单 {lab.parent}")
        c.line(m / 2, H - 54 * mm, W - m / 2, H - 54 * mm)
        # 4, 5. recipient and sender
        y = H - 59 * mm
        for tag, (name, phone, addr), size in (("收", lab.recipient, 9), ("寄", lab.sender, 7.5)):
            c.setFont(cjk, size + 2)
            c.drawString(m, y, tag)
            c.setFont(cjk, size)
            c.drawString(m + 6 * mm, y, f"{name}  {phone}")
            for line in _wrap(addr, W - 2 * m - 6 * mm, cjk, size, sw)[:2]:
                y -= size + 2
                c.drawString(m + 6 * mm, y, line)
            y -= size + 6
        c.line(m / 2, H - 88 * mm, W - m / 2, H - 88 * mm)
        # 6. contents, weight, piece
        c.setFont(cjk, 7.5)
        c.drawString(m, H - 92 * mm, f"内件: {lab.contents[:24]}")
        c.drawString(m, H - 96 * mm, f"重量: {lab.weight_g / 1000:.2f} kg   件数: {lab.piece}   "
                                     f"目的站: {lab.dest_station}")
        if lab.promise:
            c.drawString(m, H - 100 * mm, f"承诺送达: {lab.promise}")
        c.line(m / 2, H - 102 * mm, W - m / 2, H - 102 * mm)
        # 7. signature, and 8. the QR code
        c.setFont(cjk, 7.5)
        c.drawString(m, H - 107 * mm, "签收人:")
        c.drawString(m, H - 118 * mm, "签收时间:")
        qr = QrCodeWidget(lab.waybill, barLevel="M")
        x0, y0, x1, y1 = qr.getBounds()
        side = 24 * mm
        d = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
        d.add(qr)
        renderPDF.draw(d, c, W - m - side, m + 0.5 * mm)
        c.showPage()
    c.save()
    return buf.getvalue()


def _zpl_text(s: str) -> str:
    """A ZPL field's text: ^ and ~ are commands, so they become spaces."""
    return s.replace("^", " ").replace("~", " ")


def zpl(labels: list[LabelData]) -> str:
    """ZPL II, one ^XA..^XZ block per label, 203 dpi, UTF-8 (^CI28)."""
    d = ZPL_DOTS_PER_MM
    out = []
    for lab in labels:
        cjk = f"^A@N,{{h}},{{h}},{ZPL_CJK_FONT}"
        rows = [
            "^XA", "^CI28", f"^PW{WIDTH_MM * d}", f"^LL{HEIGHT_MM * d}", "^LH0,0",
            f"^FO16,16^GB{WIDTH_MM * d - 32},{HEIGHT_MM * d - 32},3^FS",
            f"^FO32,36{cjk.format(h=24)}^FDparcelnet 电子运单 {'次日达' if lab.service_level == 'next_day' else '标准快递'}^FS",
            f"^FO380,36^A0N,22,22^FD{lab.created}^FS",
            f"^FO16,{12 * d}^GB{WIDTH_MM * d - 32},0,2^FS",
            f"^FO0,{14 * d}^FB{WIDTH_MM * d},1,0,C^A0N,72,56^FD{_zpl_text(lab.sort_code)}^FS",
            f"^FO16,{27 * d}^GB{WIDTH_MM * d - 32},0,2^FS",
            f"^FO80,{30 * d}^BY3,3,{15 * d}^BCN,{15 * d},N,N,N,A^FD{lab.waybill}^FS",
            f"^FO0,{47 * d}^FB{WIDTH_MM * d},1,0,C^A0N,30,26^FD{lab.waybill}^FS",
        ]
        if lab.parent:
            rows.append(f"^FO0,{51 * d}^FB{WIDTH_MM * d},1,0,C{cjk.format(h=20)}^FD母单 {lab.parent}^FS")
        rows.append(f"^FO16,{54 * d}^GB{WIDTH_MM * d - 32},0,2^FS")
        y = 57 * d
        for tag, (name, phone, addr), h in (("收", lab.recipient, 28), ("寄", lab.sender, 22)):
            rows.append(f"^FO32,{y}{cjk.format(h=h)}^FD{tag} {_zpl_text(name)} {_zpl_text(phone)}^FS")
            rows.append(f"^FO80,{y + h + 6}^FB{WIDTH_MM * d - 112},2,4,L{cjk.format(h=h - 4)}"
                        f"^FD{_zpl_text(addr)}^FS")
            y += 3 * h + 30
        rows += [
            f"^FO16,{88 * d}^GB{WIDTH_MM * d - 32},0,2^FS",
            f"^FO32,{90 * d}{cjk.format(h=22)}^FD内件: {_zpl_text(lab.contents[:24])}^FS",
            f"^FO32,{94 * d}{cjk.format(h=22)}^FD重量: {lab.weight_g / 1000:.2f} kg 件数: {lab.piece} "
            f"目的站: {lab.dest_station}^FS",
        ]
        if lab.promise:
            rows.append(f"^FO32,{98 * d}{cjk.format(h=22)}^FD承诺送达: {lab.promise}^FS")
        rows += [
            f"^FO16,{102 * d}^GB{WIDTH_MM * d - 32},0,2^FS",
            f"^FO32,{105 * d}{cjk.format(h=22)}^FD签收人:^FS",
            f"^FO32,{116 * d}{cjk.format(h=22)}^FD签收时间:^FS",
            f"^FO{(WIDTH_MM - 28) * d},{104 * d}^BQN,2,5^FDMA,{lab.waybill}^FS",
            "^XZ",
        ]
        out.append("\n".join(rows))
    return "\n".join(out) + "\n"
