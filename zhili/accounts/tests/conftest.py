import pytest

from zhili.core import audit


@pytest.fixture
def audit_events():
    """Every audit event emitted during the test, in order."""
    events = []
    audit.add_sink(events.append)
    yield events
    audit._sinks.remove(events.append)


@pytest.fixture
def official(django_user_model):
    return django_user_model.objects.create_user(
        "official", password="Qingxi-Town-2026#", real_name="王芳", is_superuser=False
    )


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("secadmin", password="Admin-Strong-2026!")


@pytest.fixture(autouse=True)
def english_messages(settings):
    """Assertions read English messages; the Chinese catalogue is tested explicitly."""
    settings.LANGUAGE_CODE = "en"
