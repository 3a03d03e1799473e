"""The GraphQL schema, by area: context and caches, object types, Query, Mutation."""

from backend.graphql.schema import schema

__all__ = ["schema"]
