"""QR images of transit codes with ``qrcode``: PNG for counters' printers, SVG for print layouts."""
