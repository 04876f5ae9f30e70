"""Prefect flows: thin wiring of ``diaphuong.pipeline`` (installed as the package ``diaphuong_flows``)."""
