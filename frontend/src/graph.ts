// Graph drawing with Cytoscape.js: attack paths laid out left to right (internet → entry → pivots → target)
// and asset neighbourhoods. The instances are exposed on window for the browser tests.

import cytoscape from "cytoscape";
import type { Core, ElementDefinition } from "cytoscape";

declare global {
  interface Window { __cy?: Record<string, Core> }
}

export interface DrawNode { key: string; id: string; type: string; label: string; classes?: string[]; column?: number }
export interface DrawEdge { source: string; target: string; type: string; classes?: string[] }

const TYPE_SHAPE: Record<string, string> = {
  Internet: "diamond", EcsInstance: "round-rectangle", RamRole: "hexagon", RamUser: "ellipse", AccessKey: "tag",
  Account: "star", OssBucket: "barrel", RdsInstance: "barrel", AllTargets: "octagon", SecurityGroup: "vee",
  RamPolicy: "rhomboid", RamGroup: "pentagon", KvstoreInstance: "barrel", PolardbCluster: "barrel",
  MongodbInstance: "barrel", NasFileSystem: "barrel", AckCluster: "round-octagon",
};

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: "node", style: {
      label: "data(label)", "font-size": 11, color: "#dde4ec", "text-valign": "bottom", "text-margin-y": 4,
      "text-wrap": "ellipsis", "text-max-width": "150px", "background-color": "#3b5b7e", width: 34, height: 34,
      shape: "data(shape)" as unknown as cytoscape.Css.NodeShape, "border-width": 1, "border-color": "#9fb3c8",
    },
  },
  { selector: "node.entry", style: { "background-color": "#b8860b" } },
  { selector: "node.target", style: { "background-color": "#a4373a" } },
  { selector: "node.internet", style: { "background-color": "#555" } },
  { selector: "node.focus", style: { "border-width": 3, "border-color": "#7cc4ff" } },
  { selector: "node.choke", style: { "border-width": 5, "border-color": "#ff7b72", "border-style": "double" } },
  { selector: "node:selected", style: { "overlay-opacity": 0.25, "overlay-color": "#7cc4ff" } },
  {
    selector: "edge", style: {
      width: 2, "line-color": "#6b7f95", "target-arrow-color": "#6b7f95", "target-arrow-shape": "triangle",
      "curve-style": "bezier", label: "data(type)", "font-size": 9, color: "#9fb3c8", "text-rotation": "autorotate",
    },
  },
  { selector: "edge.choke", style: { "line-color": "#ff7b72", "target-arrow-color": "#ff7b72", width: 4 } },
  { selector: "edge.conditional", style: { "line-style": "dashed" } },
  { selector: ".cut", style: { opacity: 0.25, "line-style": "dotted" } },
  { selector: "edge.cut", style: { "line-color": "#ff7b72" } },
];

/** Draw a graph into `container` (replacing any previous drawing registered under `name`). */
export function draw(name: string, container: HTMLElement, nodes: DrawNode[], edges: DrawEdge[],
  onTap?: (node: DrawNode) => void): Core {
  window.__cy ??= {};
  window.__cy[name]?.destroy();
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const elements: ElementDefinition[] = [
    ...nodes.map((n) => ({
      group: "nodes" as const, data: { id: n.key, label: `${n.label}`, shape: TYPE_SHAPE[n.type] ?? "ellipse", type: n.type },
      classes: n.classes?.join(" "),
    })),
    ...edges.filter((e) => byKey.has(e.source) && byKey.has(e.target)).map((e, i) => ({
      group: "edges" as const, data: { id: `e${i}:${e.source}>${e.target}`, source: e.source, target: e.target, type: e.type },
      classes: e.classes?.join(" "),
    })),
  ];
  const columns = nodes.some((n) => n.column !== undefined);
  const cy = cytoscape({
    container, elements, style: STYLE, minZoom: 0.2, maxZoom: 3,
    layout: columns ? columnLayout(nodes) : { name: "concentric", minNodeSpacing: 30, concentric: (n) => (n.hasClass("focus") ? 2 : 1), levelWidth: () => 1 },
  });
  cy.fit(undefined, 30);
  if (cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }
  if (onTap) cy.on("tap", "node", (evt) => { const n = byKey.get(evt.target.id()); if (n) onTap(n); });
  window.__cy[name] = cy;
  return cy;
}

/** Columns left to right (internet, entry, pivots…, target); nodes of one column spread vertically. */
function columnLayout(nodes: DrawNode[]): cytoscape.LayoutOptions {
  const perColumn = new Map<number, string[]>();
  for (const n of nodes) perColumn.set(n.column ?? 0, [...(perColumn.get(n.column ?? 0) ?? []), n.key]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [col, keys] of perColumn) keys.forEach((k, i) => pos.set(k, { x: col * 190, y: (i - (keys.length - 1) / 2) * 90 }));
  return { name: "preset", positions: (n: cytoscape.NodeSingular) => pos.get(n.id()) ?? { x: 0, y: 0 } } as cytoscape.LayoutOptions;
}
