"""The web page: a map of the network with live volumes, waybill search, exceptions and
24-hour coverage (static files in ``static/``; Leaflet vendored by scripts/vendor_web.sh)."""
