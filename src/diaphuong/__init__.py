"""diaphuong."""
