import type { Ctx } from "../main";
import { asset as loadAsset, assetTypes, assets, findings, paths } from "../api/queries";
import { draw } from "../graph";
import { href, update } from "../router";
import { errorBox, field, h, kv, loading, pageParams, pager, section, select, severityBadge, statusBadge, table } from "../ui";

const PAGE = 50;

export async function assetsScreen(ctx: Ctx, p: Record<string, string>, main: HTMLElement): Promise<void> {
  if (p.id) return assetPage(ctx, p.id, main);
  main.replaceChildren(h("h1", {}, "Assets"), loading());
  const { after, pageNo } = pageParams(p);
  const [types, page] = await Promise.all([assetTypes(), assets(ctx.account, { text: p.q, type: p.type, region: p.region }, PAGE, after)]);
  const form = h("form", { class: "filters", role: "search", "aria-label": "search assets" },
    field("Search id or name", h("input", { name: "q", type: "search", value: p.q ?? "", size: 30 })),
    field("Type", select("type", ["", ...types], p.type)),
    field("Region", h("input", { name: "region", value: p.region ?? "", size: 14, placeholder: "cn-hangzhou" })),
    h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(form);
    update({ q: String(d.get("q") ?? "").trim(), type: String(d.get("type") ?? ""), region: String(d.get("region") ?? "").trim(), after: undefined, page: undefined });
  });
  main.replaceChildren(h("h1", {}, "Assets"), form,
    h("p", { class: "muted" }, `${page.totalCount} assets`),
    table("assets", [
      { title: "id", cell: (a) => h("a", { href: href("assets", { id: a.id }) }, a.id) },
      { title: "name", cell: (a) => a.name ?? "" }, { title: "type", cell: (a) => a.type }, { title: "region", cell: (a) => a.region ?? "global" },
    ], page.nodes, { testid: "assets-table" }),
    pager(page.totalCount, pageNo, PAGE, page.next, (a, n) => update({ after: a, page: String(n) })));
}

async function assetPage(ctx: Ctx, id: string, main: HTMLElement): Promise<void> {
  main.replaceChildren(h("h1", {}, id), loading());
  const [detail, found, through] = await Promise.all([
    loadAsset(ctx.account, id), findings(ctx.account, { assetId: id, status: "" }, 100, null),
    paths(ctx.account, { through: id }, 20, null).catch((e: unknown) => e as Error),
  ]);
  if (!detail) { main.replaceChildren(h("h1", {}, id), errorBox(`no asset ${id} in this account`)); return; }
  const graph = h("div", { class: "graph small", "data-testid": "asset-graph", role: "img", "aria-label": `graph around ${id}` });
  main.replaceChildren(
    h("p", {}, h("a", { href: href("assets") }, "← assets")),
    h("h1", {}, `${detail.type} ${detail.name && detail.name !== id ? `${detail.name} (${id})` : id}`),
    h("div", { class: "split" },
      h("div", {},
        section("Findings", table("findings of the asset", [
          { title: "severity", cell: (f) => severityBadge(f.severity) },
          { title: "check item", cell: (f) => h("a", { href: href("findings", { asset: id, status: "any", sel: `${f.checkId}|${id}` }) }, f.title) },
          { title: "status", cell: (f) => statusBadge(f.status) },
        ], found.nodes, { testid: "asset-findings" })),
        section("Attack paths through it", through instanceof Error ? errorBox(through) : [
          h("p", {}, `${through.totalCount} paths `, through.totalCount ? h("a", { href: href("paths", { through: id }) }, "open in attack paths") : null),
          table("paths through the asset", [
            { title: "severity", cell: (x) => severityBadge(x.severity) }, { title: "entry", cell: (x) => x.entry.id },
            { title: "target", cell: (x) => x.target.id },
            { title: "", cell: (x) => h("a", { href: href("paths", { through: id, path: x.id }) }, "draw") },
          ], through.nodes, { testid: "asset-paths" })])),
      h("div", {}, section("Neighbours", graph), section("Properties", kv(detail.properties.map((x) => [x.key, x.value]))))));
  draw("asset", graph, detail.nodes.map((n) => ({ ...n, classes: n.id === id ? ["focus"] : [] })), detail.edges,
    (n) => { if (n.id !== id) update({ id: n.id }); });
}
