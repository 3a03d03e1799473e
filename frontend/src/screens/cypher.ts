import type { Ctx } from "../main";
import { runCypher, type CypherResult } from "../api/queries";
import { draw, type DrawEdge, type DrawNode } from "../graph";
import { current, href, update } from "../router";
import { errorBox, field, h, loading, select, table } from "../ui";

// Read-only queries confined to the account ($account_id is bound by the server).
const EXAMPLES: [string, string][] = [
  ["Public ECS instances and their RAM roles",
    "MATCH (i:EcsInstance {account_id: $account_id})-[r:HAS_ROLE]->(role:RamRole)\nWHERE i.is_public\nRETURN i, r, role LIMIT 50"],
  ["Instances the internet reaches",
    "MATCH (n:Internet {account_id: $account_id})-[r:CAN_REACH]->(i:EcsInstance)\nRETURN n, r, i LIMIT 50"],
  ["Access keys and their users",
    "MATCH (k:AccessKey {account_id: $account_id})-[r:AUTHENTICATES]->(u:RamUser)\nRETURN k, r, u LIMIT 50"],
  ["Security groups open to the internet",
    "MATCH (g:SecurityGroup {account_id: $account_id})\nWHERE size(coalesce(g.internet_ports, [])) > 0\nRETURN g.id AS group, g.internet_ports AS ports LIMIT 100"],
  ["Assets per type",
    "MATCH (n {account_id: $account_id})\nRETURN labels(n)[0] AS type, count(*) AS assets ORDER BY assets DESC"],
];

interface GNode { labels: string[]; properties: Record<string, unknown>; element_id: string }
interface GRel { type: string; start: string; end: string }

function isNode(v: unknown): v is GNode { return !!v && typeof v === "object" && "labels" in v && "element_id" in v; }
function isRel(v: unknown): v is GRel { return !!v && typeof v === "object" && "start" in v && "end" in v && "type" in v; }

function graphOf(result: CypherResult): { nodes: DrawNode[]; edges: DrawEdge[] } {
  const nodes = new Map<string, DrawNode>();
  const edges: DrawEdge[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (isNode(v)) {
      const id = String(v.properties.id ?? v.element_id);
      nodes.set(v.element_id, { key: v.element_id, id, type: v.labels[0] ?? "", label: String(v.properties.name ?? id) });
    } else if (isRel(v)) edges.push({ source: v.start, target: v.end, type: v.type });
    else if (v && typeof v === "object" && "nodes" in v) Object.values(v as object).forEach(visit);
  };
  result.rows.forEach((row) => Object.values(row).forEach(visit));
  return { nodes: [...nodes.values()], edges };
}

function cell(v: unknown): string {
  if (isNode(v)) return `(${v.labels.join(":")} ${String(v.properties.id ?? "")})`;
  if (isRel(v)) return `[:${v.type}]`;
  return typeof v === "string" ? v : JSON.stringify(v);
}

export async function cypherScreen(ctx: Ctx, p: Record<string, string>, main: HTMLElement): Promise<void> {
  const query = p.q ?? EXAMPLES[0][1];
  let view = p.view === "graph" ? "graph" : "table";
  let result: CypherResult | null = null;
  const text = h("textarea", { name: "q", rows: 6, cols: 90, spellcheck: false });
  text.value = query;
  const examples = select("example", [["", "saved examples…"], ...EXAMPLES.map(([t], i): [string, string] => [String(i), t])], "");
  examples.addEventListener("change", () => { if (examples.value) text.value = EXAMPLES[Number(examples.value)][1]; });
  const out = h("div", { "aria-live": "polite", "data-testid": "cypher-out" });
  // switching the view re-draws the result in hand (and records the view in the URL) without running again
  const setView = (v: string) => {
    view = v;
    const { screen, params } = current();
    history.replaceState(null, "", href(screen, { ...params, view: v }));
    if (result) show(result);
  };
  const form = h("form", { class: "cypher", "aria-label": "Cypher query" },
    field("Example queries", examples), field("Read-only Cypher ($account_id is this account)", text),
    h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "run" }, "Run"),
      h("fieldset", { class: "inline" }, h("legend", { class: "sr-only" }, "view"),
        ...(["table", "graph"] as const).map((v) => h("label", {},
          h("input", { type: "radio", name: "view", value: v, checked: v === view, onchange: () => setView(v) }), ` ${v}`)))));
  form.addEventListener("submit", (e) => { e.preventDefault(); update({ q: text.value, view, run: String(Date.now()) }); });
  main.replaceChildren(h("h1", {}, "Cypher console"), form, out);

  function show(r: CypherResult): void {
    if (view === "graph") {
      const g = graphOf(r);
      const box = h("div", { class: "graph", "data-testid": "cypher-graph", role: "img", "aria-label": "query result as a graph" });
      out.replaceChildren(h("p", { class: "muted" }, `${g.nodes.length} nodes, ${g.edges.length} relationships`), box);
      draw("cypher", box, g.nodes, g.edges);
    } else {
      out.replaceChildren(h("p", { class: "muted" }, `${r.rows.length} rows`),
        table("query result", r.columns.map((c) => ({ title: c, cell: (row: Record<string, unknown>) => h("code", {}, cell(row[c])) })), r.rows, { testid: "cypher-table" }));
    }
  }

  if (!p.run) return;
  out.replaceChildren(loading());
  try {
    result = await runCypher(ctx.account, query);
    show(result);
  } catch (err) {
    out.replaceChildren(h("div", { "data-testid": "cypher-error" }, errorBox(err)));
  }
}
