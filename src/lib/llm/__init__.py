"""Model providers behind one interface, the tools a model can call, and the agent loop.

This package knows nothing of the database, Strawberry or HTTP serving.

Modules:
- types: the plain data shared by all (messages, tool specs and calls, provider events).
- provider: the `Provider` interface and `ProviderError`.
- demo: the offline `demo` model. openai_compat: any OpenAI-compatible server.
- catalog: the models offered, built from the settings.
- tools: the tool registry and the built-in tools.
- agent: the loop that streams a model and runs its tools.
- history: the thread of stored messages turned into what the model sees.
"""
