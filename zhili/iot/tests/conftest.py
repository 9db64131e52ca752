import pytest


@pytest.fixture(autouse=True)
def _fresh_iot_caches():
    """Process-level caches (rules, devices, recipients, metrics) outlive a test's database rows."""
    from zhili.iot import alarms, store

    alarms.rules_cache.invalidate()
    alarms.device_cache.invalidate()
    alarms._recipients_cache.clear()
    store.metrics.invalidate()
    return
