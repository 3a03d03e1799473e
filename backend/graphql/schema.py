"""The schema: Query, Mutation and the limits every request is held to."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from backend.graphql.console_views import ConsoleQuery
from backend.graphql.mutation import Mutation
from backend.graphql.query import Query
from checks.cypher_guard import CypherRefused

# answered to the client with their message, not logged: roles and accounts a token may not see, unknown check
# items (KeyError), and every domain error — a ValueError subclass (ClientError for bad arguments and cursors,
# BillingError, SelectionError, InputError …). A plain ValueError is a bug: logged with its traceback.
CLIENT_ERRORS = (PermissionError, KeyError, CypherRefused)


def client_error(error: BaseException | None) -> bool:
    return isinstance(error, CLIENT_ERRORS) or (isinstance(error, ValueError) and type(error) is not ValueError)


class SkypathSchema(strawberry.Schema):
    """Client errors (a bad argument or cursor, an account not found, a refused query) are answered, not logged:
    only unexpected errors reach the log with their traceback."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        unexpected = [e for e in errors if e.original_error is not None and not client_error(e.original_error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


# The depth and alias limits' rule classes, made once: each limiter makes a new class when constructed, and
# the validation cache is keyed by the rule classes, so limiters made per request validated every request anew.
LIMIT_RULES = [rule for limiter in (QueryDepthLimiter(max_depth=8), MaxAliasesLimiter(max_alias_count=15))
               for rule in limiter.validation_rules]

schema = SkypathSchema(
    query=merge_types("Query", (Query, ConsoleQuery)), mutation=Mutation,
    extensions=[lambda: AddValidationRules(LIMIT_RULES), lambda: MaxTokensLimiter(max_token_count=2000),
                # factories: the LRU caches behind them live at module level, shared by every request
                lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)
