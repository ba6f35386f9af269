"""Device calibration (counts → newtons) and personal calibration (pressure-pain threshold → comfort limit)."""
