"""diaphuong: the socio-economic database of Vietnam's provinces."""
__version__ = "0.1.0"
