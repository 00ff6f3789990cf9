"""A real PostgreSQL database for tests: one fresh schema per test.

The server comes from ``CREDITLIMIT_TEST_POSTGRES_URL`` (``.ci/run`` starts one
with ``.ci/postgres.sh`` and sets it). Without it the tests are skipped, except
under ``CI=true``, where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

URL_VARIABLE = "CREDITLIMIT_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url():
    """Yield a URL whose search_path is a new, empty schema; drop the schema afterwards."""
    base = os.environ.get(URL_VARIABLE)
    if not base:
        message = f"{URL_VARIABLE} is not set: start a server with .ci/postgres.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
