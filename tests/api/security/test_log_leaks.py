"""Issue 11 item 12: no bound value (email, password hash, message text) reaches the log.

The engines hide statement parameters, in their echo and in their errors' text, and a
database error logged through loguru or the standard library is reduced to its type names.
"""

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from loguru import logger
from sqlalchemy.exc import IntegrityError

from main import create_app
from src.core.enums import UserType
from src.core.logger import setup_logging
from src.lib.db.repositories.user import UserRepository
from tests.conftest import make_settings
from tests.helpers import GraphQLClient

EMAIL = "leaky.secret@example.com"
HASH = "$argon2id$v=19$m=8,t=1,p=1$c2VjcmV0c2FsdA$secrethashvalue"


@pytest.fixture
def info_logs(capfd: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Logging at INFO into the captured stderr; the tests' WARNING level again afterwards."""
    setup_logging("INFO")
    yield capfd
    setup_logging("WARNING")


async def test_echoed_statements_show_no_parameters(
    app: FastAPI, database_url: str, tmp_path: Path, info_logs: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url, tmp_path, database_echo=True, log_level="INFO")
    echoing = create_app(settings)
    async with echoing.router.lifespan_context(echoing):
        transport = httpx.ASGITransport(app=echoing)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await GraphQLClient(http).register(EMAIL, "correct horse battery")
    err = info_logs.readouterr().err
    assert "INSERT INTO users" in err  # the statements were echoed
    assert "parameters hidden" in err
    assert EMAIL not in err and "correct horse battery" not in err and "$argon2" not in err


async def _duplicate_email_error(app: FastAPI) -> IntegrityError:
    async with app.state.runtime.session_factory.begin() as db:
        await UserRepository.create(db, UserType.REGULAR, EMAIL, HASH)
    with pytest.raises(IntegrityError) as caught:
        async with app.state.runtime.session_factory.begin() as db:
            await UserRepository.create(db, UserType.REGULAR, EMAIL, HASH)
    assert EMAIL not in str(caught.value)  # hide_parameters: not in the statement's text
    return caught.value


async def test_a_database_error_logged_through_loguru_shows_no_value(
    app: FastAPI, info_logs: pytest.CaptureFixture[str]
) -> None:
    error = await _duplicate_email_error(app)
    logger.opt(exception=error).error("saving failed")
    err = info_logs.readouterr().err
    assert "saving failed" in err and "IntegrityError" in err
    assert EMAIL not in err and HASH not in err


async def test_a_database_error_logged_through_the_standard_library_shows_no_value(
    app: FastAPI, info_logs: pytest.CaptureFixture[str]
) -> None:
    error = await _duplicate_email_error(app)
    logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=error)
    err = info_logs.readouterr().err
    assert "Exception in ASGI application" in err and "IntegrityError" in err
    assert EMAIL not in err and HASH not in err
