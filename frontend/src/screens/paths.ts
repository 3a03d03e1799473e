import type { Ctx } from "../main";
import {
  asset as loadAsset, chokePoints, findings, paths as loadPaths, whatIf as loadWhatIf,
  type AttackPath, type ChokePoint, type WhatIf,
} from "../api/queries";
import { draw, type DrawEdge, type DrawNode } from "../graph";
import { href, update } from "../router";
import { errorBox, h, kv, loading, pageParams, pager, section, severityBadge, statusBadge, table } from "../ui";

const PAGE = 25;
const nodeKey = (n: { type: string; id: string }) => `${n.type}:${n.id}`;
const shortId = (id: string) => id.replace(/^acs:ram::\d+:/, "");

/** The union of some paths as drawable nodes (a column per position: internet, entry, pivots, target) and edges. */
function pathGraph(paths: AttackPath[], chokes: ChokePoint[], cut: Set<string>, cutEdges: Set<string>, focus?: string): { nodes: DrawNode[]; edges: DrawEdge[] } {
  const nodes = new Map<string, DrawNode>();
  const edges = new Map<string, DrawEdge>();
  const chokeKeys = new Set(chokes.map(nodeKey));
  const liveKeys = new Set<string>();
  for (const p of paths) {
    const alive = !cut.has(p.id);
    p.nodes.forEach((n, i) => {
      const key = nodeKey(n);
      if (alive) liveKeys.add(key);
      const classes = new Set(nodes.get(key)?.classes ?? []);
      if (n.type === "Internet") classes.add("internet");
      if (key === nodeKey(p.entry)) classes.add("entry");
      if (key === nodeKey(p.target) || i === p.nodes.length - 1) classes.add("target");
      if (chokeKeys.has(key)) classes.add("choke");
      if (key === focus) classes.add("focus");
      nodes.set(key, { key, id: n.id, type: n.type, label: n.label || shortId(n.id), classes: [...classes], column: Math.max(i, nodes.get(key)?.column ?? 0) });
    });
    p.edges.forEach((e, i) => {
      const source = nodeKey(p.nodes[i]);
      const target = nodeKey(p.nodes[i + 1]);
      const classes: string[] = [];
      if (e.conditional) classes.push("conditional");
      if (chokes.some((c) => e.detail.includes(c.id))) classes.push("choke");
      if (cutEdges.has(`${p.nodes[i].id}>${p.nodes[i + 1].id}`)) classes.push("cut");
      edges.set(`${source}>${target}`, { source, target, type: e.type, classes });
    });
  }
  if (cut.size) for (const n of nodes.values()) if (!liveKeys.has(n.key)) n.classes = [...(n.classes ?? []), "cut"];
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

export async function pathsScreen(ctx: Ctx, p: Record<string, string>, main: HTMLElement): Promise<void> {
  main.replaceChildren(h("h1", {}, "Attack paths"), loading());
  const { after, pageNo } = pageParams(p);
  const filter = { entry: p.entry, target: p.target, through: p.through };
  const [page, chokes, what] = await Promise.all([
    loadPaths(ctx.account, filter, PAGE, after), chokePoints(ctx.account, 20),
    p.whatif ? loadWhatIf(ctx.account, [p.whatif]) : Promise.resolve(null as WhatIf | null),
  ]);
  const removed = new Set((what?.removedPairs ?? []).map(([a, b]) => `${a}>${b}`));
  const cut = new Set(page.nodes.filter((x) => removed.has(`${x.entry.id}>${x.target.id}`)).map((x) => x.id));
  const cutEdges = new Set((what?.edgesRemoved ?? []).map((e) => `${e.from}>${e.to}`));
  const selected = page.nodes.find((x) => x.id === p.path);
  const shown = selected ? [selected] : page.nodes;
  const g = pathGraph(shown, chokes, cut, cutEdges, p.node);

  const filters = Object.entries(filter).filter(([, v]) => v);
  const list = h("div", { class: "list" },
    h("p", {}, filters.length
      ? [h("span", {}, "Showing paths "), ...filters.map(([k, v]) => h("span", { class: "chip" }, `${k === "through" ? "through" : k === "entry" ? "from" : "to"} ${shortId(v!)}`)),
        " ", h("button", { type: "button", onclick: () => update({ entry: undefined, target: undefined, through: undefined, after: undefined, page: undefined, path: undefined }) }, "show all")]
      : h("span", { class: "muted" }, "All paths, most severe first.")),
    table("attack paths", [
      { title: "severity", cell: (x) => severityBadge(x.severity) },
      { title: "entry", cell: (x) => shortId(x.entry.id) },
      { title: "target", cell: (x) => shortId(x.target.id) },
      { title: "hops", cell: (x) => x.edges.length },
      { title: "", cell: (x) => [x.conditional ? h("span", { class: "badge" }, "conditional") : null,
        cut.has(x.id) ? h("span", { class: "badge cut", "data-testid": "cut-badge" }, "✂ cut") : null] },
    ], page.nodes, {
      testid: "paths-table", rowId: (x) => x.id, selected: (x) => x.id === p.path,
      onSelect: (x) => update({ path: x.id === p.path ? undefined : x.id, node: undefined }),
    }),
    pager(page.totalCount, pageNo, PAGE, page.next, (a, n) => update({ after: a, page: String(n), path: undefined })));

  const graphBox = h("div", { class: "graph", "data-testid": "paths-graph", role: "img",
    "aria-label": selected ? `attack path from ${selected.entry.id} to ${selected.target.id}` : "attack paths of this page" });
  const nodeButtons = h("ul", { class: "node-list", "aria-label": "nodes in the graph" }, g.nodes.map((n) =>
    h("li", {}, h("button", { type: "button", class: "link", "aria-pressed": String(n.key === p.node), onclick: () => update({ node: n.key }) },
      `${n.type}: ${shortId(n.id)}${n.classes?.includes("choke") ? " (choke point)" : ""}`))));
  const panel = h("aside", { class: "panel", "aria-label": "details" });
  main.replaceChildren(
    h("h1", {}, "Attack paths"),
    h("div", { class: "paths-layout" }, list,
      h("div", { class: "graph-col" }, graphBox,
        h("p", { class: "legend" }, "◆ internet · gold: entry · red: target · double red border: choke point · dashed: conditional · faded: cut by the what-if"),
        h("details", {}, h("summary", {}, "nodes (keyboard)"), nodeButtons)),
      panel));
  draw("paths", graphBox, g.nodes, g.edges, (n) => update({ node: n.key }));

  panel.append(whatIfPanel(what, page.totalCount, cut.size), chokeList(chokes, p.whatif));
  const focus = g.nodes.find((n) => n.key === p.node);
  if (focus) panel.prepend(await nodePanel(ctx, focus, chokes, p.whatif));
  if (selected) panel.prepend(pathPanel(selected));
}

function pathPanel(x: AttackPath): HTMLElement {
  return section("Path", kv([["type", x.type], ["severity", severityBadge(x.severity)], ["access", x.access.join(", ") || "—"],
    ["steps", h("ol", {}, x.edges.map((e, i) => h("li", {}, `${shortId(x.nodes[i].id)} —${e.type}→ ${shortId(x.nodes[i + 1].id)}`, h("br"), h("small", {}, e.detail))))]]));
}

function whatIfPanel(what: WhatIf | null, pageTotal: number, cutOnPage: number): HTMLElement | string {
  if (!what) return "";
  return section("What-if", h("div", { "data-testid": "whatif" },
    h("p", {}, h("code", {}, what.changes.join(", "))),
    h("p", {}, "cuts ", h("strong", { "data-testid": "whatif-removed" }, String(what.pathsRemoved)), " (entry, target) pairs; ",
      h("strong", {}, String(what.pathsRemaining)), " remain.", cutOnPage ? ` ${cutOnPage} of the ${Math.min(pageTotal, PAGE)} listed are cut.` : ""),
    h("ul", { class: "cut-list", "data-testid": "whatif-cut" }, what.removedPairs.slice(0, 30).map(([a, b]) => h("li", {}, `${shortId(a)} → ${shortId(b)}`))),
    h("button", { type: "button", onclick: () => update({ whatif: undefined }) }, "Clear what-if")));
}

function chokeList(chokes: ChokePoint[], active: string | undefined): HTMLElement {
  return section("Choke points", h("p", { class: "muted" }, "The fewest changes that cut every path; each cuts the paths counted."),
    h("ol", { class: "chokes", "data-testid": "choke-points" }, chokes.map((c) => h("li", {},
      h("a", { href: "#", onclick: (e: Event) => { e.preventDefault(); update({ node: nodeKey(c), through: c.type === "SecurityGroup" ? undefined : c.id, path: undefined, after: undefined, page: undefined }); } },
        `${c.type} ${shortId(c.id)}`), ` cuts ${c.pathsCut}`, h("br"), h("small", {}, c.change),
      c.whatIf ? whatIfToggle(c.whatIf, active) : null))));
}

function whatIfToggle(change: string, active: string | undefined): HTMLElement {
  const on = active === change;
  return h("button", { type: "button", class: "toggle", "aria-pressed": String(on), "data-testid": "whatif-toggle",
    onclick: () => update({ whatif: on ? undefined : change }) }, on ? "✓ what-if on" : "What if this is fixed?");
}

async function nodePanel(ctx: Ctx, n: DrawNode, chokes: ChokePoint[], active: string | undefined): Promise<HTMLElement> {
  const choke = chokes.find((c) => nodeKey(c) === n.key);
  const [detail, found] = await Promise.all([
    loadAsset(ctx.account, n.id).catch(() => null), findings(ctx.account, { assetId: n.id, status: "NOT_PASS" }, 10, null).catch((e: unknown) => e as Error),
  ]);
  return section(`${n.type} ${shortId(n.id)}`, h("div", { "data-testid": "node-panel" },
    choke ? h("p", { class: "choke-note", "data-testid": "choke-note" }, h("strong", {}, "Choke point: "), `cuts ${choke.pathsCut} paths — ${choke.change} `,
      choke.whatIf ? whatIfToggle(choke.whatIf, active) : null) : null,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => update({ target: n.id, entry: undefined, through: undefined, path: undefined, after: undefined, page: undefined }) }, "Paths to this target"),
      h("button", { type: "button", onclick: () => update({ entry: n.id, target: undefined, through: undefined, path: undefined, after: undefined, page: undefined }) }, "Paths from this entry"),
      h("button", { type: "button", onclick: () => update({ through: n.id, entry: undefined, target: undefined, path: undefined, after: undefined, page: undefined }) }, "Paths through this node")),
    detail ? h("details", {}, h("summary", {}, `${detail.properties.length} properties`),
      kv(detail.properties.map((x) => [x.key, x.value]))) : null,
    detail ? h("p", {}, h("a", { href: href("assets", { id: n.id }) }, "asset page")) : null,
    h("h3", {}, "Failing findings"),
    found instanceof Error ? errorBox(found) : found.nodes.length
      ? h("ul", {}, found.nodes.map((f) => h("li", {}, severityBadge(f.severity), " ",
        h("a", { href: href("findings", { asset: f.assetId, sel: `${f.checkId}|${f.assetId}` }) }, f.title), " ", statusBadge(f.status))),
        found.totalCount > found.nodes.length ? h("li", {}, h("a", { href: href("findings", { asset: n.id }) }, `all ${found.totalCount}`)) : null)
      : h("p", { class: "muted" }, "none")));
}
