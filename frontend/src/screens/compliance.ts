import type { Ctx } from "../main";
import { compliance, packages } from "../api/queries";
import { href, update } from "../router";
import { field, h, loading, pct, rateBar, section, select, severityBadge, table } from "../ui";

export async function complianceScreen(ctx: Ctx, p: Record<string, string>, main: HTMLElement): Promise<void> {
  main.replaceChildren(h("h1", {}, "Compliance"), loading());
  const all = await packages();
  const pkg = p.package && all.includes(p.package) ? p.package : all[0];
  const report = await compliance(ctx.account, pkg);
  const picker = select("package", all, pkg);
  picker.addEventListener("change", () => update({ package: picker.value, section: undefined, req: undefined }));
  const sectionOpen = p.section;
  main.replaceChildren(
    h("h1", {}, "Compliance"),
    h("div", { class: "filters" }, field("Package", picker)),
    h("h2", {}, report.title),
    h("p", {}, "Pass rate ", h("strong", { "data-testid": "package-rate" }, pct(report.passRate)),
      ` · ${report.decidable} of ${report.requirements} requirements decidable from collected data`),
    h("div", { class: "compliance", "data-testid": "sections" }, report.sections.map((s) => {
      const open = s.id === sectionOpen;
      return h("div", { class: "section-row" },
        h("button", { type: "button", class: "disclosure", "aria-expanded": String(open),
          onclick: () => update({ section: open ? undefined : s.id, req: undefined }) },
        h("span", { class: "sid" }, s.id), " ", s.title),
        h("span", {}, `${s.pass} pass · ${s.fail} fail · ${s.notDecidable} undecidable`),
        rateBar(s.passRate, `pass rate of section ${s.id}`),
        open ? h("div", { class: "requirements" }, table(`requirements of section ${s.id}`, [
          { title: "requirement", cell: (q) => h("button", { type: "button", class: "link", "aria-expanded": String(q.id === p.req),
            onclick: () => update({ req: q.id === p.req ? undefined : q.id }) }, `${q.id} ${q.title}`) },
          { title: "status", cell: (q) => h("span", { class: `badge req-${q.status}` }, q.status.replace("_", " ")) },
          { title: "pass rate", cell: (q) => q.status === "not_decidable" ? h("small", {}, q.reason ?? "") : rateBar(q.passRate, `pass rate of ${q.id}`) },
        ], s.requirements, { testid: "requirements" }),
        ...s.requirements.filter((q) => q.id === p.req).map((q) => section(`Items of ${q.id}`, q.items.length
          ? table(`items of requirement ${q.id}`, [
            { title: "severity", cell: (i) => severityBadge(i.severity) },
            { title: "item", cell: (i) => h("a", { href: href("findings", { check: i.checkId, status: "any" }) }, i.title) },
            { title: "pass", cell: (i) => i.pass }, { title: "fail", cell: (i) => i.notPass },
            { title: "pass rate", cell: (i) => rateBar(i.passRate, `pass rate of ${i.checkId}`) },
          ], q.items, { testid: "items" })
          : h("p", { class: "muted" }, q.reason ?? "no check item maps to this requirement")))) : null);
    })),
    section(`Not decidable (${report.notDecidable.length})`, table("requirements that cannot be decided", [
      { title: "requirement", cell: (q) => `${q.id} ${q.title}` }, { title: "why", cell: (q) => q.reason },
    ], report.notDecidable, { testid: "not-decidable" })));
}
