"""Payment providers: VietQR (NAPAS 247 QR + the bank's signed notifications), a VNPay-style
gateway, and the signed notification protocol they and the local stand-in share."""
