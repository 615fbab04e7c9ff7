"""Kiosk: a Raspberry Pi scanning cart for SLiMS library stock-takes."""

__version__ = "0.1.0"
