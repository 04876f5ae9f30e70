"""Reference data kept as files in ``catalog/data`` and their loaders."""
from diaphuong.catalog.provinces import (
    ProvinceRef,
    province_name,
    provinces,
    provinces_on,
    resolve_province,
    crosswalk,
)

__all__ = ["ProvinceRef", "province_name", "provinces", "provinces_on", "resolve_province", "crosswalk"]
