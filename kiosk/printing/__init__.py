"""Printed matter: Code 128 barcodes and the sheet of command barcodes."""
