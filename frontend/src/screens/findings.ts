import type { Ctx } from "../main";
import {
  ORDERS, STATUSES, SEVERITIES, asset as loadAsset, findingFacets, findings, remediationPlan, verify, whitelist,
  type Finding,
} from "../api/queries";
import { href, update } from "../router";
import { draw } from "../graph";
import { errorBox, field, h, kv, loading, pageParams, pager, select, severityBadge, statusBadge, table } from "../ui";
import { planView } from "./remediation";

const PAGE = 50;

export async function findingsScreen(ctx: Ctx, p: Record<string, string>, main: HTMLElement): Promise<void> {
  main.replaceChildren(h("h1", {}, "Findings"), loading());
  const status = p.status === "any" ? "" : p.status ?? "NOT_PASS";
  const { after, pageNo } = pageParams(p);
  const filter = { severity: p.severity, status, checkId: p.check, product: p.product, region: p.region, assetId: p.asset, order: p.order };
  const [page, facets] = await Promise.all([findings(ctx.account, filter, PAGE, after), findingFacets(ctx.account, status || "NOT_PASS")]);

  const form = h("form", { class: "filters", "aria-label": "filter findings" },
    field("Severity", select("severity", ["", ...SEVERITIES], p.severity)),
    field("Status", select("status", [["any", "any"], ...STATUSES.map((s): [string, string] => [s, s])], p.status ?? "NOT_PASS")),
    field("Check item", h("input", { name: "check", value: p.check ?? "", placeholder: "ACS_…", size: 30 })),
    field("Product", select("product", ["", ...facets.byProduct.map((c) => c.key)], p.product)),
    field("Region", select("region", ["", ...facets.byRegion.map((c) => c.key === "global" ? "" : c.key).filter(Boolean)], p.region)),
    field("Asset", h("input", { name: "asset", value: p.asset ?? "", size: 22 })),
    field("Sort", select("order", ORDERS, p.order ?? "WORST_FIRST")),
    h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const next: Record<string, string | undefined> = { after: undefined, page: undefined, sel: undefined };
    for (const k of ["severity", "check", "product", "region", "asset", "order"]) next[k] = String(data.get(k) ?? "").trim();
    next.status = String(data.get("status") ?? "") || "any";
    if (next.status === "NOT_PASS") next.status = undefined;
    update(next);
  });
  const key = (f: Finding) => `${f.checkId}|${f.assetId}`;
  const list = h("div", { class: "list" },
    h("p", { class: "muted" }, `${page.totalCount} findings`),
    table("findings", [
      { title: "severity", cell: (f) => severityBadge(f.severity) },
      { title: "check item", cell: (f) => h("span", { title: f.checkId }, f.title) },
      { title: "asset", cell: (f) => f.assetId },
      { title: "region", cell: (f) => f.region },
      { title: "status", cell: (f) => [statusBadge(f.status), f.stale ? h("span", { class: "badge", title: f.reason ?? "" }, "not re-checked") : null] },
    ], page.nodes, { testid: "findings-table", rowId: key, selected: (f) => key(f) === p.sel, onSelect: (f) => update({ sel: key(f) }) }),
    pager(page.totalCount, pageNo, PAGE, page.next, (a, n) => update({ after: a, page: String(n), sel: undefined })));
  const detail = h("div", { class: "detail", "aria-live": "polite" });
  main.replaceChildren(h("h1", {}, "Findings"), form, h("div", { class: "split" }, list, detail));
  if (p.sel) {
    const [checkId, assetId] = p.sel.split("|");
    await findingDetail(ctx, checkId, assetId, page.nodes.find((f) => key(f) === p.sel), detail);
  } else {
    detail.append(h("p", { class: "muted" }, "Select a finding to see its item, asset, graph and remediation."));
  }
}

async function findingDetail(ctx: Ctx, checkId: string, assetId: string, row: Finding | undefined, box: HTMLElement): Promise<void> {
  box.replaceChildren(loading());
  row ??= (await findings(ctx.account, { checkId, assetId, status: "" }, 1, null)).nodes[0];
  const item = row?.item ?? null;
  const [assetDoc, plan] = await Promise.all([
    loadAsset(ctx.account, assetId),
    remediationPlan(ctx.account, checkId, assetId).catch((e: unknown) => e as Error),
  ]);
  const graph = h("div", { class: "graph small", "data-testid": "finding-graph", role: "img", "aria-label": `graph around ${assetId}` });
  const actions = h("div", { class: "actions" });
  const outcome = h("div", { "aria-live": "polite" });
  if (ctx.can("operator")) {
    const reason = h("input", { name: "reason", placeholder: "why this is accepted", size: 30 });
    actions.append(
      h("button", { type: "button", "data-testid": "verify", onclick: async () => {
        outcome.replaceChildren(loading());
        try {
          const r = await verify(ctx.account, checkId, assetId);
          outcome.replaceChildren(h("p", {}, `verified: ${r.results.join(", ") || r.status}`));
        } catch (e) { outcome.replaceChildren(errorBox(e)); }
      } }, "Verify now"),
      h("form", { class: "inline", "aria-label": "whitelist", onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          await whitelist(ctx.account, checkId, assetId, reason.value);
          outcome.replaceChildren(h("p", { "data-testid": "whitelisted" }, "whitelisted: the next scans report WHITELIST"));
        } catch (err) { outcome.replaceChildren(errorBox(err)); }
      } }, field("Reason", reason), h("button", { type: "submit", "data-testid": "whitelist" }, "Whitelist")));
  }
  box.replaceChildren(
    h("h2", {}, item?.title ?? checkId),
    kv([
      ["severity", item ? severityBadge(item.severity) : ""], ["status", row ? statusBadge(row.status) : "—"],
      ["check item", h("code", {}, checkId)], ["asset", h("a", { href: href("assets", { id: assetId }) }, assetId)],
      ["asset type", assetDoc?.type ?? row?.assetType ?? ""], ["region", row?.region ?? assetDoc?.region ?? ""],
      ["compliance", item?.refs.join(", ") || "—"],
    ]),
    h("p", {}, item?.description ?? ""),
    h("h3", {}, "Asset and its neighbours"), graph,
    h("h3", {}, "Remediation"), h("p", {}, item?.remediation ?? ""),
    plan instanceof Error ? errorBox(plan) : planView(ctx.account, plan),
    h("p", {}, h("a", { href: href("remediation", { check: checkId, asset: assetId }) }, "open in remediation")),
    actions, outcome);
  if (assetDoc) {
    draw("finding", graph, assetDoc.nodes.map((n) => ({ ...n, classes: n.id === assetId ? ["focus"] : [] })), assetDoc.edges);
  } else {
    graph.replaceWith(h("p", { class: "muted" }, "the asset is not in the graph (removed since the scan)"));
  }
}
