"""The models this server offers, and which provider serves each.

Offers:
- ModelCatalog: the providers built from the settings, their models and the default model.
- UnknownModelError: a model id that no provider serves.
"""

from src.core.config import Settings
from src.lib.llm.demo import DemoProvider
from src.lib.llm.openai_compat import OpenAICompatProvider
from src.lib.llm.provider import Provider
from src.lib.llm.types import ModelInfo


class UnknownModelError(ValueError):
    """A model id that no provider serves.

    Attributes:
        model_id: The unknown id.
    """

    def __init__(self, model_id: str) -> None:
        super().__init__(f"Unknown model: {model_id}")
        self.model_id = model_id


class ModelCatalog:
    """Every model offered, in the order of the providers, each with its provider."""

    def __init__(self, providers: list[Provider], default_model: str | None = None) -> None:
        """Index the providers' models.

        Args:
            providers: At least one provider; their model ids must not overlap.
            default_model: The default model's id; None or empty for the first model.

        Raises:
            ValueError: No model at all, or two providers serve the same id.
            UnknownModelError: `default_model` is not among the models.
        """
        self._providers = list(providers)
        self._models: dict[str, tuple[Provider, ModelInfo]] = {}
        for provider in self._providers:
            for model in provider.models():
                if model.id in self._models:
                    raise ValueError(f"Model {model.id} is offered twice")
                self._models[model.id] = (provider, model)
        if not self._models:
            raise ValueError("No model is configured")
        self._default = default_model or next(iter(self._models))
        if self._default not in self._models:
            raise UnknownModelError(self._default)

    @classmethod
    def from_settings(cls, settings: Settings) -> "ModelCatalog":
        """The catalog the settings describe.

        The OpenAI-compatible models come first (from `openai_models`); the demo model is added
        when there are none, or when `demo_model_enabled`.
        """
        providers: list[Provider] = []
        if settings.openai_models:
            key = settings.openai_api_key
            providers.append(
                OpenAICompatProvider(
                    models=settings.openai_models,
                    base_url=settings.openai_base_url or None,
                    api_key=key.get_secret_value() if key else None,
                    timeout=settings.llm_timeout_seconds,
                    max_retries=settings.llm_max_retries,
                )
            )
        if not settings.openai_models or settings.demo_model_enabled:
            providers.append(DemoProvider(token_delay=settings.demo_token_delay_seconds))
        return cls(providers, settings.default_model or None)

    def models(self) -> list[ModelInfo]:
        """Every model offered."""
        return [model for _, model in self._models.values()]

    @property
    def default_model(self) -> str:
        """The id of the model used when a request names none."""
        return self._default

    def resolve(self, model_id: str | None) -> tuple[Provider, ModelInfo]:
        """The provider and description of a model.

        Args:
            model_id: A model id; None for the default model.

        Raises:
            UnknownModelError: No provider serves that id.
        """
        found = self._models.get(self._default if model_id is None else model_id)
        if found is None:
            raise UnknownModelError(str(model_id))
        return found

    async def close(self) -> None:
        """Close every provider."""
        for provider in self._providers:
            await provider.close()
