"""Property-based API test with schemathesis against the OpenAPI schema (R-10.3-input):
every operation, authenticated with an API token of an administrator, gets generated valid
and invalid input; no answer may be a 5xx and every answer must conform to the schema."""

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the `test` extra")

from django.core.wsgi import get_wsgi_application  # noqa: E402
from drf_spectacular.generators import SchemaGenerator  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from zhili.accounts.tokens import create_token  # noqa: E402

pytestmark = [pytest.mark.req("R-10.3-input"), pytest.mark.req("R-10.3-rbac")]
MAX_EXAMPLES = 6
#: Server errors and conformance of what is documented (bodies, content types, headers).
#: Not ``status_code_conformance``: drf-spectacular documents success codes only, so every
#: correct 400/403/404 would count as "undocumented".
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
]


def load_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(schema)
    loaded.app = get_wsgi_application()
    return loaded


@pytest.mark.django_db
def test_no_5xx_and_no_schema_violation(django_user_model):
    admin = django_user_model.objects.create_superuser("schema_admin", password="x")
    _token, key = create_token(admin, "schemathesis", scopes=("read", "write"))
    headers = {"Authorization": f"Token {key}"}
    schema = load_schema()
    # As Django's test client does: requests must not close the test's database connection
    # (CONN_MAX_AGE=0 with the PostgreSQL pool would, inside the test transaction).
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        failures, operations = run_operations(schema, headers)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert operations > 50
    unique = sorted(set(failures))
    assert unique == [], f"{len(unique)} problems:\n" + "\n".join(unique[:40])


def run_operations(schema, headers):
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
                return
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect all, report at once
                lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
                failures.append(f"{case.method} {case.formatted_path}: {' | '.join(lines[:4])[:300]}")

        check()
    return failures, operations
