"""Transit: products and concessions, virtual cards, device-bound passes, the two-level signed
dynamic QR that gates verify offline, deny lists, taps and trips."""
