import type { Ctx } from "../main";
import { billing, type Count } from "../api/queries";
import { update } from "../router";
import { h, kv, loading, pageParams, pager, rateBar, section, table, when } from "../ui";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Authorizations per day as a bar chart (with a table of the same numbers for screen readers). */
function usageChart(days: Count[]): HTMLElement {
  const w = 640, hgt = 180, pad = 28;
  const max = Math.max(1, ...days.map((d) => d.count));
  const bw = Math.min(48, (w - pad * 2) / Math.max(1, days.length) - 6);
  const chart = svg("svg", { viewBox: `0 0 ${w} ${hgt + 30}`, width: "100%", role: "img", "aria-label": "authorizations used per day", "data-testid": "usage-chart" });
  chart.append(svg("line", { x1: pad, y1: hgt, x2: w - pad, y2: hgt, stroke: "#6b7f95" }));
  days.forEach((d, i) => {
    const bh = Math.round((d.count / max) * (hgt - 20));
    const x = pad + i * (bw + 6);
    const bar = svg("rect", { x, y: hgt - bh, width: bw, height: bh, fill: "#3b82c4" });
    bar.append(svg("title", {}, `${d.key}: ${d.count}`));
    chart.append(bar, svg("text", { x: x + bw / 2, y: hgt - bh - 4, "text-anchor": "middle", "font-size": 11, fill: "#dde4ec" }, String(d.count)),
      svg("text", { x: x + bw / 2, y: hgt + 16, "text-anchor": "middle", "font-size": 10, fill: "#9fb3c8" }, d.key.slice(5)));
  });
  return h("figure", {}, chart as unknown as HTMLElement, h("figcaption", { class: "muted" }, "authorizations used per day"));
}

export async function billingScreen(ctx: Ctx, p: Record<string, string>, main: HTMLElement): Promise<void> {
  main.replaceChildren(h("h1", {}, "Billing"), loading());
  const { after, pageNo } = pageParams(p);
  const { billing: b, ledger } = await billing(ctx.account, after);
  const used = b.quotaTotal ? b.quotaUsed / b.quotaTotal : null;
  main.replaceChildren(
    h("h1", {}, "Billing"),
    h("div", { class: "grid" },
      section("Plan", kv([["model", b.model], ["edition", b.edition], ["CSPM", b.cspm ? "yes" : "no"], ["expires", when(b.expires)],
        ["recommended quota", String(b.recommendedQuota)]])),
      section("Quota", b.quotaTotal
        ? [rateBar(used, "quota used"), h("p", {}, h("strong", { "data-testid": "billing-used" }, String(b.quotaUsed)), ` of ${b.quotaTotal} used; ${b.quotaRemaining ?? 0} left`)]
        : h("p", {}, "Pay as you go: ", h("strong", { "data-testid": "billing-used" }, String(b.quotaUsed)), " authorizations billed"))),
    section("Usage", usageChart(b.usageByDay),
      h("details", {}, h("summary", {}, "by check item"), table("usage by check item", [
        { title: "check item", cell: (c) => c.key }, { title: "authorizations", cell: (c) => c.count },
      ], [...b.usageByItem].sort((x, y) => y.count - x.count)))),
    section("Ledger (oldest first)", table("ledger", [
      { title: "at", cell: (e) => when(e.at) }, { title: "operation", cell: (e) => e.operation }, { title: "check item", cell: (e) => e.checkId ?? "" },
      { title: "assets", cell: (e) => e.assets }, { title: "amount", cell: (e) => e.amount }, { title: "who", cell: (e) => e.who ?? "" },
    ], ledger.nodes, { testid: "ledger" }),
    pager(ledger.totalCount, pageNo, 25, ledger.next, (a, n) => update({ after: a, page: String(n) }))));
}
