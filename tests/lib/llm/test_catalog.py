"""ModelCatalog: the models offered, from the settings, and how ids resolve."""

from typing import Any

import pytest

from src.core.config import Settings
from src.lib.llm.catalog import ModelCatalog, UnknownModelError
from src.lib.llm.demo import DemoProvider
from src.lib.llm.openai_compat import OpenAICompatProvider


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "openai_base_url": "http://127.0.0.1:9/v1",
        "openai_api_key": None,
        "openai_models": [],
        "default_model": "",
        "demo_model_enabled": False,
    }
    return Settings(_env_file=None, **(base | values))


async def test_demo_only_when_no_model_is_configured() -> None:
    catalog = ModelCatalog.from_settings(settings())

    assert [model.id for model in catalog.models()] == ["demo"]
    assert catalog.default_model == "demo"
    provider, model = catalog.resolve(None)
    assert isinstance(provider, DemoProvider)
    assert model.name == "Demo model"
    await catalog.close()


async def test_configured_models_come_first_and_the_first_is_the_default() -> None:
    catalog = ModelCatalog.from_settings(settings(openai_models=["gpt-a", "gpt-b"]))

    assert [(m.id, m.provider) for m in catalog.models()] == [
        ("gpt-a", "openai"),
        ("gpt-b", "openai"),
    ]
    assert catalog.default_model == "gpt-a"
    provider, model = catalog.resolve("gpt-b")
    assert isinstance(provider, OpenAICompatProvider)
    assert model.id == "gpt-b"
    await catalog.close()


async def test_demo_can_be_enabled_beside_real_models_and_be_the_default() -> None:
    catalog = ModelCatalog.from_settings(
        settings(openai_models=["gpt-a"], demo_model_enabled=True, default_model="demo")
    )

    assert [model.id for model in catalog.models()] == ["gpt-a", "demo"]
    assert catalog.default_model == "demo"
    assert catalog.resolve(None)[1].id == "demo"
    await catalog.close()


def test_unknown_model_is_refused() -> None:
    catalog = ModelCatalog([DemoProvider()])

    with pytest.raises(UnknownModelError) as raised:
        catalog.resolve("gpt-9")
    assert raised.value.model_id == "gpt-9"
    assert isinstance(raised.value, ValueError)


def test_a_default_model_that_is_not_offered_is_a_configuration_error() -> None:
    with pytest.raises(UnknownModelError):
        ModelCatalog.from_settings(settings(default_model="gpt-a"))


def test_the_same_id_twice_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="offered twice"):
        ModelCatalog([DemoProvider(), DemoProvider()])
