import type { Ctx } from "../main";
import { compliancePassRate, overview, type Count } from "../api/queries";
import { href } from "../router";
import { h, loading, pct, rateBar, section, severityBadge, table, when } from "../ui";

function countList(title: string, counts: Count[], param: string, testid: string, badge = false): HTMLElement {
  return section(title, h("ul", { class: "counts", "data-testid": testid }, counts.map((c) =>
    h("li", {}, h("a", { href: href("findings", { status: "NOT_PASS", [param]: c.key }) },
      badge ? severityBadge(c.key) : h("span", {}, c.key),
      h("strong", { "data-testid": `${testid}-${c.key}` }, String(c.count)))))));
}

export async function overviewScreen(ctx: Ctx, _params: Record<string, string>, main: HTMLElement): Promise<void> {
  main.replaceChildren(h("h1", {}, "Overview"), loading());
  const o = await overview(ctx.account);
  const b = o.billing;
  const quota = b.model === "payg"
    ? h("p", {}, "Pay as you go: ", h("strong", { "data-testid": "quota-used" }, String(b.quotaUsed)), " authorizations used")
    : h("div", {}, rateBar(b.quotaTotal ? b.quotaUsed / b.quotaTotal : 0, "quota used"),
      h("p", {}, h("strong", { "data-testid": "quota-used" }, String(b.quotaUsed)), ` of ${b.quotaTotal} authorizations used`));
  const complianceCard = section("Compliance pass rates", h("ul", { class: "counts", "data-testid": "compliance-rates" },
    o.packages.map((p) => h("li", { "data-package": p }, h("a", { href: href("compliance", { package: p }) }, p), h("span", { class: "muted" }, "…")))));
  main.replaceChildren(
    h("h1", {}, "Overview"),
    h("div", { class: "grid" },
      section("Failing findings", h("p", { class: "big" }, h("strong", { "data-testid": "failing-total" }, String(o.summary.total)),
        " failing (item, asset) pairs")),
      countList("By severity", o.summary.bySeverity, "severity", "by-severity", true),
      countList("By product", o.summary.byProduct, "product", "by-product"),
      countList("By region", o.summary.byRegion, "region", "by-region"),
      complianceCard,
      section("Quota and usage", h("p", {}, `${b.model} · ${b.edition}${b.cspm ? " · CSPM" : ""}`), quota,
        h("p", {}, h("a", { href: href("billing") }, "billing details"))),
    ),
    section("Recent scans", table("recent scans", [
      { title: "scan", cell: (s) => s.id }, { title: "operation", cell: (s) => s.operation ?? "" },
      { title: "status", cell: (s) => s.status }, { title: "started", cell: (s) => when(s.started) },
      { title: "authorizations", cell: (s) => s.authorizations },
    ], o.scans, { testid: "recent-scans" })));
  // pass rates fill in as each package's report arrives: the rest of the page is usable meanwhile
  await Promise.all([...complianceCard.querySelectorAll<HTMLElement>("li[data-package]")].map(async (li) => {
    const rate = await compliancePassRate(ctx.account, li.dataset.package!);
    li.lastElementChild!.replaceWith(h("strong", { "data-testid": `rate-${li.dataset.package}` }, pct(rate)));
  }));
}
