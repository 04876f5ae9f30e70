"""Vietnamese text: Unicode normalisation, tone placement, legacy encodings, numbers, periods."""
from diaphuong.text.normalize import fold, normalize_vi, nfc

__all__ = ["fold", "normalize_vi", "nfc"]
