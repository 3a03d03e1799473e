"""The schema: Query, Mutation and the limits every request is held to."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from backend.graphql.mutation import Mutation
from backend.graphql.query import Query

schema = strawberry.Schema(
    query=Query, mutation=Mutation,
    extensions=[lambda: QueryDepthLimiter(max_depth=8), lambda: MaxTokensLimiter(max_token_count=2000),
                lambda: MaxAliasesLimiter(max_alias_count=15),
                # factories: the LRU caches behind them live at module level, shared by every request
                lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)
