"""Device calibration (counts → N) and personal calibration (pain threshold → comfort limit)."""
