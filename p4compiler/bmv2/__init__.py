"""BMv2 JSON back end (p4c-bm2-ss dialect)."""
