"""Streaming of generations (streamed assistant replies) to subscribers; knows nothing of GraphQL.

Modules of the broker part:
- `events`: the event types of a generation, `is_terminal`, `encode_event`/`decode_event`.
- `broker`: the `Broker` interface (generation lock, publish, subscribe with replay and merged
  deltas for slow subscribers, stop requests), `GenerationInfo`, `SubscriberLaggedError`,
  `coalesce`.
- `memory`: `InMemoryBroker` and `InMemoryUserEvents`, for one process.
- `redis_broker`: `RedisBroker`, for many processes sharing one Redis; `redis_user_events`
  (`RedisUserEvents`, its `user_events`), `redis_reader`, `redis_batch`, `redis_stops`,
  `redis_errors` are its parts.
- `user_events`: what changed in a user's chats (`UserEvent`), the `UserEventBroker` interface.
- `titles`: `TitleWriter`, the model's titles after a chat's first reply.
- `factory`: `create_broker(redis_url, lock_ttl, max_events)`.
"""
