"""Property test of the whole API against its own description (schemathesis).

Requests generated from /api/openapi.json go straight to the WSGI app, on a database holding
public data of every kind: no answer may be a 5xx, use an undocumented status code or content
type, or break its response schema. The casting endpoint mostly answers 4xx here, by design.
"""

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.seed import public_data

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(app):
    public_data()

    def isolated(environ, start_response):
        # A blank context per request, as a real server gives (see tests/conftest.py).
        return contextvars.Context().run(app, environ, start_response)

    return schemathesis.openapi.from_wsgi("/api/openapi.json", isolated)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_matches_its_description(case):
    case.call_and_validate(checks=CHECKS)
