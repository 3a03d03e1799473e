"""The schema: Query, Mutation and the limits every request is held to."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from backend.billing import BillingError
from backend.graphql.console_views import ConsoleQuery
from backend.graphql.mutation import Mutation
from backend.graphql.query import Query
from checks.cypher_guard import CypherRefused
from checks.packages import SelectionError
from checks.paths import WhatIfError
from checks.remediation import RemediationError
from checks.scan import ScanError

# answered to the client with their message; ValueError covers bad arguments and cursors, PermissionError roles
# and accounts a token may not see, KeyError unknown check items
CLIENT_ERRORS = (ValueError, PermissionError, KeyError, BillingError, CypherRefused, SelectionError, WhatIfError,
                 RemediationError, ScanError)

class SkypathSchema(strawberry.Schema):
    """Client errors (a bad argument or cursor, an account not found, a refused query) are answered, not logged:
    only unexpected errors reach the log with their traceback."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        unexpected = [e for e in errors if e.original_error is not None and not isinstance(e.original_error, CLIENT_ERRORS)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


schema = SkypathSchema(
    query=merge_types("Query", (Query, ConsoleQuery)), mutation=Mutation,
    extensions=[lambda: QueryDepthLimiter(max_depth=8), lambda: MaxTokensLimiter(max_token_count=2000),
                lambda: MaxAliasesLimiter(max_alias_count=15),
                # factories: the LRU caches behind them live at module level, shared by every request
                lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)
