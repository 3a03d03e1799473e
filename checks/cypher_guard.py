"""Read-only, tenant-scoped Cypher for the console and for custom check items.

Neo4j Community has no per-user graph privileges, so tenant confinement is proved before a query runs,
and anything that cannot be proved is refused (fail closed):

1. **Bounds, before Neo4j sees the query**: length, token count and nesting depth (brackets, unary and
   binary operator chains) — a parser-stack bomb is refused in microseconds.
2. **An allow-list grammar** (`_Parser`, on a real tokenizer: string literals with escapes, backquoted
   names, comments): a read-only subset of Cypher 5 — MATCH / OPTIONAL MATCH / WITH / UNWIND / RETURN /
   UNION and `CALL { … }` subqueries; expressions with allow-listed functions only. Everything else is
   refused with the construct named: writes, procedures, LOAD CSV, FOREACH, USE, SHOW, hints, query options.
3. **Nested graph reads must be anchored.** A graph read the top-level plan does not show — a pattern in
   an expression (pattern predicate, pattern comprehension) or any MATCH inside `EXISTS`/`COUNT`/`COLLECT`
   subqueries, at any depth — must start from a node variable bound outside it; no relationship joins two
   tenants, so such a read stays in the tenant of that node. The parser tracks variable scope
   conservatively (a name it is unsure of is not bound, so the read is refused).
4. **The server's verdict**: `EXPLAIN` (with a timeout) → the query type must be read ('r'), and every
   operator of the top-level plan that *starts* reading the graph must be an index seek on
   `account_id = $account_id` or a node scan whose direct parent filters on that conjunct
   (`check_plan_scoped`); unknown operators are refused. `hidden_labels` (the audit log for viewers) may
   not be where a read starts, and label-free scans are refused when labels are hidden.

Queries then run in READ transactions with a server-side timeout and `$account_id` bound by Skypath.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from neo4j import Driver, Query, Result
from neo4j.exceptions import DriverError, Neo4jError

T = TypeVar("T")

MAX_QUERY_CHARS = 20_000
MAX_TOKENS = 4_000
MAX_DEPTH = 40  # brackets, subqueries, unary operators
MAX_CHAIN = 200  # operands of one binary operator chain (Neo4j's AST is left-deep)
VALIDATION_TIMEOUT_SECONDS = 5.0
SCOPE_HINT = "start every pattern from tenant nodes, e.g. MATCH (n:EcsInstance {account_id: $account_id})"
NESTED_HINT = ("a pattern inside an expression or an EXISTS/COUNT/COLLECT subquery must start from a node "
               "variable bound outside it, e.g. MATCH (n:EcsInstance {account_id: $account_id}) "
               "RETURN COUNT { (n)--() }")


class CypherRefused(ValueError):
    pass


# ------------------------------------------------------------------------------------------------ tokens

@dataclass(frozen=True)
class Token:
    kind: str  # name (unquoted identifier or keyword), quoted (`name`), string, number, param, op, end
    text: str  # the name's text, or the operator
    at: int

    def word(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n\r\x0b\x0c\x85\u2028\u2029]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<quoted>`(?:[^`]|``)*`)
  | (?P<param>\$(?:[^\W\d]\w*|\d+|`(?:[^`]|``)*`))
  | (?P<number>0x[0-9A-Fa-f_]+|0o[0-7_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\.\.|<>|<=|>=|=~|\|\||::|[()\[\]{},.:;|+\-*/%^=<>!&?])
""", re.X | re.S)


def tokenize(query: str) -> list[Token]:
    """Cypher tokens (whitespace and comments dropped); unterminated literals and unknown characters refused."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:
            what = query[pos]
            if what in "'\"`" or query.startswith("/*", pos):
                raise CypherRefused(f"unterminated {'comment' if what == '/' else 'literal'} at offset {pos}")
            raise CypherRefused(f"unexpected character {what!r} at offset {pos}")
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "string" and re.search(r"\\[uU]", text):
            # Unicode escapes are where a lexer that decodes them early and this one would disagree on where
            # a literal ends: refused rather than guessed
            raise CypherRefused(f"unicode escapes (\\u…) in string literals are not allowed (offset {pos})")
        if kind != "space":
            if kind == "quoted":
                text = text[1:-1].replace("``", "`")
            tokens.append(Token(kind, text, pos))
            if len(tokens) > MAX_TOKENS:
                raise CypherRefused(f"query longer than {MAX_TOKENS} tokens")
        pos = m.end()
    tokens.append(Token("end", "", len(query)))
    return tokens


def strip_literals(query: str) -> str:
    """The query as the server reads its words: literals blanked, comments dropped, `names` unquoted."""
    out = []
    for t in tokenize(query)[:-1]:
        out.append("''" if t.kind == "string" else t.text)
    return " ".join(out)


# ------------------------------------------------------------------------------------------------ grammar

# clause and operator words the grammar knows; anything else at the start of a clause is refused
REFUSED_CLAUSES = {
    "CREATE": "writes", "MERGE": "writes", "DELETE": "writes", "DETACH": "writes", "SET": "writes",
    "REMOVE": "writes", "INSERT": "writes", "FOREACH": "writes", "LOAD": "LOAD CSV: file and network access",
    "USING": "hints, PERIODIC COMMIT", "USE": "other databases", "SHOW": "administration",
    "DROP": "administration", "ALTER": "administration", "GRANT": "administration", "DENY": "administration",
    "REVOKE": "administration", "START": "administration", "STOP": "administration", "TERMINATE": "administration",
    "ENABLE": "administration", "RENAME": "administration", "CYPHER": "query options", "EXPLAIN": "Skypath explains",
    "PROFILE": "Skypath explains", "FINISH": "not needed",
}
# words that cannot be variables (so `word (` is syntax, never a function call)
KEYWORDS = frozenset({
    "MATCH", "OPTIONAL", "WHERE", "WITH", "RETURN", "UNWIND", "AS", "UNION", "ALL", "CALL", "DISTINCT", "ORDER",
    "BY", "ASC", "ASCENDING", "DESC", "DESCENDING", "SKIP", "OFFSET", "LIMIT", "AND", "OR", "XOR", "NOT", "IN",
    "IS", "NULL", "TRUE", "FALSE", "STARTS", "ENDS", "CONTAINS", "CASE", "WHEN", "THEN", "ELSE", "END", "EXISTS",
    "COUNT", "COLLECT", "CREATE", "MERGE", "DELETE", "DETACH", "SET", "REMOVE", "FOREACH", "LOAD", "USING", "USE",
})
# built-in functions without access to the graph, files or the network (Cypher 5); lower case
FUNCTIONS = frozenset("""
avg collect count max min percentilecont percentiledisc stdev stdevp sum
char_length character_length coalesce elementid endnode head id last length nullif properties randomuuid size
startnode timestamp toboolean tobooleanornull tofloat tofloatornull tointeger tointegerornull type valuetype
isempty keys labels nodes range relationships reverse tail tobooleanlist tofloatlist tointegerlist tostringlist
abs ceil floor isnan rand round sign e exp log log10 sqrt acos asin atan atan2 cos cot degrees haversin pi
radians sin tan btrim left lower ltrim normalize replace right rtrim split substring tolower tostring
tostringornull toupper trim upper date datetime localdatetime localtime time duration point
""".split())
FUNCTION_NAMESPACES = ("date.", "datetime.", "localdatetime.", "localtime.", "time.", "duration.", "point.",
                       "vector.similarity.")
QUANTIFIERS = frozenset({"ALL", "ANY", "NONE", "SINGLE"})
SUBQUERY_EXPRESSIONS = frozenset({"EXISTS", "COUNT", "COLLECT"})
COMPARISONS = frozenset({"=", "<>", "<", ">", "<=", ">=", "=~"})


@dataclass
class _Scope:
    """Variables visible at a point of the query (a conservative under-approximation of Neo4j's)."""

    names: set[str]

    def copy(self) -> _Scope:
        return _Scope(set(self.names))


class _Parser:
    """Recursive descent over the allow-listed subset; raises CypherRefused on anything else."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    # -- token helpers
    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def next(self) -> Token:
        t = self.peek()
        self.i += 1
        return t

    def at(self, *words: str) -> bool:
        return all(self.peek(k).word() == w for k, w in enumerate(words))

    def at_op(self, *ops: str) -> bool:
        return all(self.peek(k).kind == "op" and self.peek(k).text == o for k, o in enumerate(ops))

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def accept_op(self, op: str) -> bool:
        if self.at_op(op):
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            self.fail(f"expected {word}")

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            self.fail(f"expected '{op}'")

    def fail(self, why: str) -> NoReturn:
        t = self.peek()
        seen = "the end of the query" if t.kind == "end" else repr(t.text)
        raise CypherRefused(f"not in the console's read-only Cypher: {why} at offset {t.at} (found {seen})")

    def refuse(self, why: str) -> NoReturn:
        raise CypherRefused(f"{why} (offset {self.peek().at})")

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CypherRefused(f"query nested deeper than {MAX_DEPTH} levels")
        try:
            yield
        finally:
            self.depth -= 1

    def variable(self) -> str:
        t = self.peek()
        if t.kind == "quoted" or (t.kind == "name" and t.word() not in KEYWORDS):
            self.i += 1
            return t.text
        self.fail("expected a variable name")

    def symbolic_name(self) -> str:
        """A label, type, property key or map key: keywords allowed."""
        t = self.peek()
        if t.kind in ("name", "quoted"):
            self.i += 1
            return t.text
        self.fail("expected a name")

    # -- queries and clauses
    def query(self, scope: _Scope, nested: bool) -> set[str]:
        """Returns the variables the query returns (those common to every UNION branch)."""
        returned = self.single_query(scope.copy(), nested)
        while self.accept("UNION"):
            self.accept("ALL")
            returned &= self.single_query(scope.copy() if nested else _Scope(set()), nested)
        return returned

    def single_query(self, scope: _Scope, nested: bool) -> set[str]:
        clauses = 0
        returned: set[str] = set()
        while True:
            t = self.peek()
            word = t.word()
            if t.kind == "end" or (t.kind == "op" and t.text in ("}", ";")) or word == "UNION":
                break
            if word in REFUSED_CLAUSES:
                self.refuse(f"read-only: {word} is not allowed in tenant queries ({REFUSED_CLAUSES[word]})")
            if word == "RETURN":
                self.next()
                self.projection(scope, is_return=True)
                returned = set(scope.names)
                clauses += 1
                continue
            if self.accept("OPTIONAL"):
                if not self.at("MATCH"):
                    self.fail("only OPTIONAL MATCH is allowed")
            if self.accept("MATCH"):
                self.match(scope, nested)
            elif self.accept("WITH"):
                self.projection(scope, is_return=False)
            elif self.accept("UNWIND"):
                self.expression(scope)
                self.expect("AS")
                scope.names.add(self.variable())
            elif self.at("CALL"):
                self.call(scope, nested)
            else:
                self.fail("expected MATCH, OPTIONAL MATCH, WITH, UNWIND, CALL { … } or RETURN")
            clauses += 1
        if clauses == 0:
            self.fail("empty query")
        return returned

    def call(self, scope: _Scope, nested: bool) -> None:
        self.expect("CALL")
        if nested:
            self.refuse("CALL subqueries are not allowed inside expressions; use a top-level CALL { … }")
        inner = _Scope(set())
        if self.accept_op("("):  # CALL (a, b) { … } imports the listed variables
            if self.accept_op("*"):
                inner = scope.copy()
            elif not self.at_op(")"):
                inner.names.add(self.imported(scope))
                while self.accept_op(","):
                    inner.names.add(self.imported(scope))
            self.expect_op(")")
        if not self.at_op("{"):
            self.refuse("read-only: procedure calls (CALL name()) are not allowed in tenant queries")
        self.next()
        with self.nested():
            if self.at("WITH"):  # an importing WITH: only plain outer variables
                self.next()
                if self.accept_op("*"):
                    inner = scope.copy()
                else:
                    inner.names.add(self.imported(scope))
                    while self.accept_op(","):
                        inner.names.add(self.imported(scope))
                if self.at("WHERE") or self.at("ORDER") or self.at("SKIP") or self.at("LIMIT"):
                    self.fail("an importing WITH only lists variables")
            returned = self.query(inner, nested=False)
        self.expect_op("}")
        if self.at("IN"):
            self.refuse("CALL { … } IN TRANSACTIONS is not allowed in tenant queries")
        scope.names |= returned  # only what the subquery returns becomes visible after it

    def imported(self, scope: _Scope) -> str:
        name = self.variable()
        if name not in scope.names:
            self.fail(f"variable {name} is not defined")
        return name

    def projection(self, scope: _Scope, is_return: bool) -> None:
        self.accept("DISTINCT")
        before = scope.copy()
        out: set[str] = set()
        if self.accept_op("*"):
            out |= before.names
            if not self.accept_op(","):
                return self.projection_tail(scope, before, out, is_return)
        while True:
            start = self.peek()
            self.expression(before)
            if self.accept("AS"):
                out.add(self.variable())
            elif start.kind in ("name", "quoted") and self.tokens[self.i - 1] is start:
                out.add(start.text)  # a bare variable keeps its name
            if not self.accept_op(","):
                break
        self.projection_tail(scope, before, out, is_return)

    def projection_tail(self, scope: _Scope, before: _Scope, out: set[str], is_return: bool) -> None:
        # ORDER BY may see variables from before the projection or only the projected ones (aggregation):
        # only names in both are certainly bound there
        sort_scope = _Scope(before.names & out)
        if self.accept("ORDER", "BY"):
            while True:
                self.expression(sort_scope)
                (self.accept("ASC") or self.accept("ASCENDING") or self.accept("DESC")
                 or self.accept("DESCENDING"))
                if not self.accept_op(","):
                    break
        if self.accept("SKIP") or self.accept("OFFSET"):
            self.expression(_Scope(set()))
        if self.accept("LIMIT"):
            self.expression(_Scope(set()))
        scope.names = out
        if not is_return and self.accept("WHERE"):
            self.expression(scope)

    def match(self, scope: _Scope, nested: bool) -> None:
        while True:
            self.pattern_part(scope, nested)
            if not self.accept_op(","):
                break
        if self.at("USING"):
            self.refuse("read-only: USING is not allowed in tenant queries (hints, PERIODIC COMMIT)")
        if self.accept("WHERE"):
            self.expression(scope)

    # -- patterns
    def pattern_part(self, scope: _Scope, nested: bool) -> None:
        """`[p =] [shortestPath|allShortestPaths](path)` or a plain path. In nested reads the part must
        contain a node variable already in scope."""
        path_var = None
        if self.peek().kind in ("name", "quoted") and self.peek(1).kind == "op" and self.peek(1).text == "=":
            path_var = self.variable()
            self.next()
        word = self.peek().word()
        if word in ("SHORTESTPATH", "ALLSHORTESTPATHS"):
            if nested:
                self.refuse("shortestPath is not allowed inside expressions or subqueries")
            self.next()
            self.expect_op("(")
            new = self.path(scope)
            self.expect_op(")")
        elif self.peek().kind in ("name", "quoted"):
            self.refuse("path selectors and match modes (ANY, ALL, SHORTEST, …) are not supported in tenant queries")
        else:
            new = self.path(scope)
        anchors, introduced = new
        if nested and not anchors:
            self.refuse(f"tenant scope: a nested read is not scoped: {NESTED_HINT}")
        scope.names |= introduced
        if path_var:
            scope.names.add(path_var)

    def path(self, scope: _Scope) -> tuple[set[str], set[str]]:
        """A node, then (relationship, node)*. Returns (node variables bound before, variables introduced)."""
        anchors: set[str] = set()
        introduced: set[str] = set()
        self.node_pattern(scope, anchors, introduced)
        while self.at_op("-") or self.at_op("<"):
            self.relationship_pattern(scope, introduced)
            self.node_pattern(scope, anchors, introduced)
        return anchors, introduced

    def node_pattern(self, scope: _Scope, anchors: set[str], introduced: set[str]) -> None:
        if not self.at_op("("):
            self.fail("expected a node pattern '('")
        if self.peek(1).kind == "op" and self.peek(1).text == "(":
            self.refuse("quantified path patterns are not supported in tenant queries")
        self.next()
        with self.nested():
            if self.peek().kind in ("name", "quoted") and self.peek().word() != "WHERE":
                name = self.variable()
                (anchors if name in scope.names and name not in introduced else introduced).add(name)
            self.label_expression()
            self.properties(_Scope(scope.names | introduced))
            if self.accept("WHERE"):
                self.expression(_Scope(scope.names | introduced))
            self.expect_op(")")
        if self.at_op("{") or self.at_op("+") or self.at_op("*") or self.at_op("("):
            self.refuse("quantified path patterns are not supported in tenant queries")

    def label_expression(self) -> None:
        """`:A`, `:A:B`, `:A|B`, `:A|:B`, `:A&!B`, `:%` (labels and relationship types only filter)."""
        if not self.accept_op(":"):
            return
        while True:
            self.accept_op(":")
            self.accept_op("!")
            if not self.accept_op("%"):
                self.symbolic_name()
            if not (self.accept_op(":") or self.accept_op("|") or self.accept_op("&")):
                break

    def properties(self, scope: _Scope) -> None:
        if self.at_op("{"):
            self.map_literal(scope)
        elif self.peek().kind == "param":
            self.next()

    def relationship_pattern(self, scope: _Scope, introduced: set[str]) -> None:
        self.accept_op("<")
        self.expect_op("-")
        if self.accept_op("["):
            with self.nested():
                if self.peek().kind in ("name", "quoted") and self.peek().word() != "WHERE":
                    introduced.add(self.variable())
                self.label_expression()
                if self.accept_op("*"):
                    if self.peek().kind == "number":
                        self.next()
                    if self.accept_op(".."):
                        if self.peek().kind == "number":
                            self.next()
                self.properties(_Scope(scope.names | introduced))
                if self.accept("WHERE"):
                    self.expression(_Scope(scope.names | introduced))
                self.expect_op("]")
            self.expect_op("-")
        else:
            self.expect_op("-")
        self.accept_op(">")

    def _looks_like_pattern(self) -> bool:
        """At '(' in an expression: does a node pattern followed by a relationship (or '|'/WHERE in a list)
        parse here? Tried on a copy, so a failed attempt consumes nothing."""
        probe = _Parser(self.tokens)
        probe.i, probe.depth = self.i, self.depth
        try:
            probe.node_pattern(_Scope(set()), set(), set())
        except CypherRefused:
            return False
        return probe.at_op("-", "-") or probe.at_op("-", "[") or probe.at_op("<", "-")

    # -- expressions
    def expression(self, scope: _Scope) -> None:
        with self.nested():
            self.binary_chain(scope, 0)

    # precedence levels: OR, XOR, AND, NOT (prefix), comparison, additive, multiplicative, power, unary
    LEVELS: tuple[frozenset[str], ...] = (
        frozenset({"OR"}), frozenset({"XOR"}), frozenset({"AND"}),
    )

    def binary_chain(self, scope: _Scope, level: int) -> None:
        if level < 3:
            operands = 1
            self.binary_chain(scope, level + 1)
            while self.peek().word() in self.LEVELS[level]:
                self.next()
                operands += 1
                if operands > MAX_CHAIN:
                    self.refuse(f"more than {MAX_CHAIN} operands in one expression")
                self.binary_chain(scope, level + 1)
            return
        if self.at("NOT"):
            self.next()
            with self.nested():
                self.binary_chain(scope, 3)
            return
        self.comparison(scope)

    def comparison(self, scope: _Scope) -> None:
        operands = 1
        self.additive(scope)
        while True:
            t = self.peek()
            if t.kind == "op" and t.text in COMPARISONS:
                self.next()
            elif self.accept("STARTS", "WITH") or self.accept("ENDS", "WITH") or self.accept("CONTAINS") \
                    or self.accept("IN"):
                pass
            elif self.at("IS"):
                self.next()
                self.accept("NOT")
                if not self.accept("NULL"):
                    self.fail("only IS [NOT] NULL is supported")
                continue
            else:
                return
            operands += 1
            if operands > MAX_CHAIN:
                self.refuse(f"more than {MAX_CHAIN} operands in one expression")
            self.additive(scope)

    def additive(self, scope: _Scope) -> None:
        operands = 1
        self.unary(scope)
        while self.peek().kind == "op" and self.peek().text in ("+", "-", "*", "/", "%", "^", "||"):
            self.next()
            operands += 1
            if operands > MAX_CHAIN:
                self.refuse(f"more than {MAX_CHAIN} operands in one expression")
            self.unary(scope)

    def unary(self, scope: _Scope) -> None:
        if self.peek().kind == "op" and self.peek().text in ("+", "-"):
            self.next()
            with self.nested():
                self.unary(scope)
            return
        self.postfix(scope)

    def postfix(self, scope: _Scope) -> None:
        self.atom(scope)
        while True:
            if self.accept_op("."):
                self.symbolic_name()
            elif self.at_op("["):
                self.next()
                with self.nested():
                    if not self.at_op(".."):
                        self.expression(scope)
                    if self.accept_op(".."):
                        if not self.at_op("]"):
                            self.expression(scope)
                    self.expect_op("]")
            elif self.at_op(":"):  # a label predicate, n:RamUser
                self.label_expression()
            else:
                return

    def atom(self, scope: _Scope) -> None:
        t = self.peek()
        word = t.word()
        if t.kind in ("string", "number", "param"):
            self.next()
        elif word in ("TRUE", "FALSE", "NULL"):
            self.next()
        elif t.kind == "op" and t.text == "(":
            if self._looks_like_pattern():
                self.pattern_part(scope, nested=True)  # a pattern predicate: anchored, or refused
            else:
                self.next()
                with self.nested():
                    self.expression(scope)
                self.expect_op(")")
        elif t.kind == "op" and t.text == "[":
            self.list_expression(scope)
        elif t.kind == "op" and t.text == "{":
            self.map_literal(scope)
        elif word == "CASE":
            self.case(scope)
        elif word in SUBQUERY_EXPRESSIONS and self.peek(1).kind == "op" and self.peek(1).text == "{":
            self.next()
            self.next()
            with self.nested():
                inner = scope.copy()
                if self.at("MATCH") or self.at("OPTIONAL") or self.at("WITH") or self.at("UNWIND") \
                        or self.at("CALL") or self.at("RETURN") or self.peek().word() in REFUSED_CLAUSES:
                    self.query(inner, nested=True)
                else:  # the short form: a pattern [WHERE …]
                    while True:
                        self.pattern_part(inner, nested=True)
                        if not self.accept_op(","):
                            break
                    if self.accept("WHERE"):
                        self.expression(inner)
            self.expect_op("}")
        elif t.kind in ("name", "quoted") and self.peek(1).kind == "op" and self.peek(1).text in ("(", "."):
            if self._function_name_ahead():
                self.function_call(scope)
            else:
                self.variable_or_projection(scope)
        elif t.kind in ("name", "quoted"):
            self.variable_or_projection(scope)
        else:
            self.fail("expected an expression")

    def variable_or_projection(self, scope: _Scope) -> None:
        self.variable()
        if self.at_op("{"):  # map projection n{.a, .*, k: expr, v}
            self.next()
            with self.nested():
                if not self.at_op("}"):
                    while True:
                        if self.accept_op("."):
                            if not self.accept_op("*"):
                                self.symbolic_name()
                        elif self.peek(1).kind == "op" and self.peek(1).text == ":":
                            self.symbolic_name()
                            self.next()
                            self.expression(scope)
                        else:
                            self.variable()
                        if not self.accept_op(","):
                            break
                self.expect_op("}")

    def _function_name_ahead(self) -> bool:
        """name(.name)* followed by '(' (a variable's property access is not)."""
        k = 0
        while self.peek(k).kind in ("name", "quoted") and self.peek(k + 1).kind == "op" and self.peek(k + 1).text == ".":
            k += 2
        return self.peek(k).kind in ("name", "quoted") and self.peek(k + 1).kind == "op" and self.peek(k + 1).text == "("

    def function_call(self, scope: _Scope) -> None:
        parts = [self.symbolic_name()]
        while self.accept_op("."):
            parts.append(self.symbolic_name())
        name = ".".join(parts).lower()
        first = parts[0].upper()
        self.expect_op("(")
        with self.nested():
            if len(parts) == 1 and first in QUANTIFIERS | {"REDUCE"}:
                return self.iteration(scope, first)
            if len(parts) == 1 and first in ("SHORTESTPATH", "ALLSHORTESTPATHS"):
                self.refuse("shortestPath is not allowed inside expressions")
            if name not in FUNCTIONS and not name.startswith(FUNCTION_NAMESPACES):
                self.refuse(f"the function {'.'.join(parts)}() is not allowed in tenant queries "
                            "(built-in scalar, list, string, math and temporal functions only)")
            if name == "count" and self.accept_op("*"):
                self.expect_op(")")
                return
            self.accept("DISTINCT")
            if not self.at_op(")"):
                self.expression(scope)
                while self.accept_op(","):
                    self.expression(scope)
            self.expect_op(")")

    def iteration(self, scope: _Scope, kind: str) -> None:
        """all/any/none/single(x IN list WHERE p), reduce(acc = init, x IN list | expr)."""
        inner = scope.copy()
        if kind == "REDUCE":
            inner.names.add(self.variable())
            self.expect_op("=")
            self.expression(scope)
            self.expect_op(",")
        variable = self.variable()
        self.expect("IN")
        self.expression(scope)
        inner.names.add(variable)
        if kind == "REDUCE":
            self.expect_op("|")
            self.expression(inner)
        elif self.accept("WHERE"):
            self.expression(inner)
        self.expect_op(")")

    def list_expression(self, scope: _Scope) -> None:
        """[a, b], [x IN list WHERE p | e], [p = (a)-->(b) WHERE q | e] (a pattern comprehension)."""
        self.expect_op("[")
        with self.nested():
            if self.peek().kind in ("name", "quoted") and self.peek(1).word() == "IN":
                inner = scope.copy()
                variable = self.variable()
                self.expect("IN")
                self.expression(scope)
                inner.names.add(variable)
                if self.accept("WHERE"):
                    self.expression(inner)
                if self.accept_op("|"):
                    self.expression(inner)
            elif self._pattern_comprehension_ahead():
                inner = scope.copy()
                self.pattern_part(inner, nested=True)
                if self.accept("WHERE"):
                    self.expression(inner)
                self.expect_op("|")
                self.expression(inner)
            elif not self.at_op("]"):
                self.expression(scope)
                while self.accept_op(","):
                    self.expression(scope)
            self.expect_op("]")

    def _pattern_comprehension_ahead(self) -> bool:
        """After '[': a path (optionally `p =`) then WHERE or '|'. Probed on a copy."""
        probe = _Parser(self.tokens)
        probe.i, probe.depth = self.i, self.depth
        try:
            if probe.peek().kind in ("name", "quoted") and probe.peek(1).kind == "op" and probe.peek(1).text == "=":
                probe.next()
                probe.next()
            if probe.peek().word() in ("SHORTESTPATH", "ALLSHORTESTPATHS"):
                return True  # refused by pattern_part
            probe.path(_Scope(set()))
        except CypherRefused as exc:
            # a quantified or otherwise unsupported pattern where a comprehension starts: refuse, don't guess
            if "not supported" in str(exc) or "not allowed" in str(exc):
                raise
            return False
        return probe.at("WHERE") or probe.at_op("|")

    def map_literal(self, scope: _Scope) -> None:
        self.expect_op("{")
        with self.nested():
            if not self.at_op("}"):
                while True:
                    self.symbolic_name()
                    self.expect_op(":")
                    self.expression(scope)
                    if not self.accept_op(","):
                        break
            self.expect_op("}")

    def case(self, scope: _Scope) -> None:
        self.expect("CASE")
        with self.nested():
            if not self.at("WHEN"):
                self.expression(scope)
            while self.accept("WHEN"):
                self.expression(scope)
                while self.accept_op(","):
                    self.expression(scope)
                self.expect("THEN")
                self.expression(scope)
            if self.accept("ELSE"):
                self.expression(scope)
            self.expect("END")


def check_grammar(query: str) -> None:
    """Bounds and the allow-list grammar with anchored nested reads (no server involved)."""
    if not query or not query.strip():
        raise CypherRefused("empty query")
    if len(query) > MAX_QUERY_CHARS:
        raise CypherRefused(f"query longer than {MAX_QUERY_CHARS} characters")
    parser = _Parser(tokenize(query))
    parser.query(_Scope(set()), nested=False)
    parser.accept_op(";")
    if parser.peek().kind != "end":
        parser.fail("unexpected text after the query")


# ------------------------------------------------------------------------------------------------ the plan

# operators that only transform rows or expand from variables already bound (Neo4j 5 names; the expand
# families come in variants such as VarLengthExpand(Pruning,BFS,All): matched by the name before "(")
ROW_OPERATORS = frozenset({
    "ProduceResults", "Projection", "Filter", "Expand", "OptionalExpand", "VarLengthExpand", "BFSPruningVarExpand",
    "ShortestPath", "StatefulShortestPath", "Trail", "Repeat", "NullifyMetadata", "Apply", "SemiApply",
    "AntiSemiApply", "LetSemiApply", "LetAntiSemiApply", "SelectOrSemiApply", "SelectOrAntiSemiApply",
    "LetSelectOrSemiApply", "LetSelectOrAntiSemiApply", "RollUpApply", "ConditionalApply", "AntiConditionalApply",
    "Optional", "CartesianProduct", "NodeHashJoin", "ValueHashJoin", "NodeLeftOuterHashJoin", "NodeRightOuterHashJoin",
    "Union", "OrderedUnion", "Distinct", "OrderedDistinct", "EagerAggregation", "OrderedAggregation", "Sort",
    "PartialSort", "Top", "PartialTop", "Limit", "ExhaustiveLimit", "Skip", "Unwind", "PartialUnwind",
    "CacheProperties", "Eager", "EmptyResult", "EmptyRow", "Argument", "ArgumentTracker", "ProjectEndpoints",
    "TriadicSelection", "TriadicBuild", "TriadicFilter", "AssertSameNode", "AssertSameRelationship", "Anti",
})
INDEX_SEEKS = frozenset({"NodeIndexSeek", "NodeUniqueIndexSeek", "NodeIndexSeekByRange", "NodeUniqueIndexSeekByRange"})
SCANS = frozenset({"NodeByLabelScan", "AllNodesScan", "NodeIndexScan"})
# the variable a node scan binds: "n", "n:Label", "RANGE INDEX n:Label(prop) WHERE …"
SCAN_VARIABLE = re.compile(r"^(?:\w+ INDEX )?`?(\w+)`?(?::|$|\s)")
SCAN_LABEL = re.compile(r"^(?:\w+ INDEX )?`?\w+`?:`?(\w+)`?")
SCOPED_SEEK = re.compile(r"\(account_id\) WHERE account_id = \$account_id(?:,|$)")


def _operators(plan: dict[str, Any], parent: dict[str, Any] | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    yield plan, parent
    for child in plan.get("children", []):
        yield from _operators(child, plan)


def _name(op: dict[str, Any]) -> str:
    return str(op.get("operatorType", "")).split("@")[0]


def _details(op: dict[str, Any]) -> str:
    args = op.get("args") or op.get("arguments") or {}
    return str(args.get("Details", ""))


def _conjuncts(predicate: str) -> list[str]:
    """Split a plan predicate on top-level AND (outside parentheses, brackets and quotes)."""
    parts, depth, start, quote = [], 0, 0, ""
    i = 0
    while i < len(predicate):
        ch = predicate[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and predicate.startswith(" AND ", i):
            parts.append(predicate[start:i])
            start = i + 5
            i += 4
        i += 1
    parts.append(predicate[start:])
    return [p.strip() for p in parts]


def _scan_is_scoped(scan: dict[str, Any], parent: dict[str, Any] | None) -> bool:
    """A node scan is scoped when its direct parent keeps only rows with `<var>.account_id = $account_id`,
    tested first: the filter evaluates its conjuncts in order, so no other predicate (one that could fail,
    an error oracle) ever sees another tenant's node."""
    found = SCAN_VARIABLE.match(_details(scan).strip())
    if parent is None or _name(parent) != "Filter" or not found:
        return False
    variable = found.group(1)
    wanted = {f"{variable}.account_id = $account_id", f"cache[{variable}.account_id] = $account_id"}
    return _conjuncts(_details(parent))[0] in wanted


def check_plan_scoped(plan: dict[str, Any], hidden_labels: frozenset[str] = frozenset()) -> None:
    """Raise CypherRefused unless every graph read in the plan starts from `$account_id`'s nodes (and, when
    labels are hidden, from a node of a visible label)."""
    for op, parent in _operators(plan):
        name = _name(op)
        if name.split("(")[0] in ROW_OPERATORS:
            continue
        if name in INDEX_SEEKS or name in SCANS:
            scoped = SCOPED_SEEK.search(_details(op)) if name in INDEX_SEEKS else _scan_is_scoped(op, parent)
            if not scoped:
                raise CypherRefused(f"tenant scope: the query reads nodes that are not scoped to $account_id "
                                    f"({name} {_details(op)}); {SCOPE_HINT}")
            if hidden_labels:
                label = SCAN_LABEL.match(_details(op).strip())
                if label is None or label.group(1) in hidden_labels:
                    raise CypherRefused(f"role: the query may not read {', '.join(sorted(hidden_labels))} nodes, "
                                        f"and every read must start from a labelled node ({name} {_details(op)})")
            continue
        raise CypherRefused(f"tenant scope: the plan operator {name} ({_details(op) or 'no details'}) is not allowed "
                            f"in tenant-scoped queries; {SCOPE_HINT}")


def validate_read_only(driver: Driver, query: str, hidden_labels: frozenset[str] = frozenset()) -> list[str]:
    """Raise CypherRefused unless the query is a tenant-scoped read; return its result columns."""
    check_grammar(query)
    for label in hidden_labels:
        if re.search(rf"\b{re.escape(label)}\b", strip_literals(query)):
            raise CypherRefused(f"role: the query may not read {label} nodes")
    try:
        with driver.session(default_access_mode="READ") as session:
            result = session.run(Query("EXPLAIN " + query, timeout=VALIDATION_TIMEOUT_SECONDS),
                                 account_id="0", asset_id="")
            keys = list(result.keys())
            summary = result.consume()
    except Neo4jError as exc:
        raise CypherRefused(f"invalid Cypher: {exc.message}") from exc
    except DriverError as exc:
        raise CypherRefused(f"the query could not be checked: {exc}") from exc
    if summary.query_type not in ("r",):
        raise CypherRefused(f"read-only: the query type is {summary.query_type!r}, only read queries run")
    if not summary.plan:
        raise CypherRefused("the server returned no plan to check the query against")
    check_plan_scoped(summary.plan, hidden_labels)
    return keys


def run_tenant_read(driver: Driver, query: str, account_id: str, timeout: float, read: Callable[[Result], T]) -> T:
    """Run a validated tenant query once: one explicit READ transaction with a server-side timeout (the
    server's per-transaction memory limit applies too), never retried on transient errors — a query that
    exhausted memory or time gets its error, not another go. `read` consumes the result inside the
    transaction; leaving the transaction rolls it back and discards what was not read."""
    try:
        with driver.session(default_access_mode="READ") as session, session.begin_transaction(timeout=timeout) as tx:
            return read(tx.run(query, account_id=account_id))
    except Neo4jError as exc:
        if "Terminated" in (exc.code or "") or "TimedOut" in (exc.code or ""):
            raise CypherRefused(f"query failed: stopped after the {timeout:g} s time limit") from exc
        raise CypherRefused(f"query failed: {exc.message or exc.code}") from exc
    except DriverError as exc:
        raise CypherRefused(f"query failed: {exc}") from exc
