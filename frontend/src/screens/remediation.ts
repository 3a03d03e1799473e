import type { Ctx } from "../main";
import { REMEDIATE_MUTATION, auditLog, remediate, remediationPlan, type RemediationPlan } from "../api/queries";
import { update } from "../router";
import { errorBox, field, h, kv, loading, section, table, when } from "../ui";

/** A plan: the OpenAPI requests it sends and the exact GraphQL request that runs it. */
export function planView(accountId: string, plan: RemediationPlan): HTMLElement {
  const request = JSON.stringify({ query: REMEDIATE_MUTATION.replace(/\s+/g, " "),
    variables: { accountId, checkId: plan.checkId, assetId: plan.assetId, dryRun: true } }, null, 2);
  return h("div", { class: "plan", "data-testid": "plan" },
    kv([["current status", plan.currentStatus ?? "—"], ["effect", plan.effect || "—"],
      ["warnings", plan.warnings.join("; ") || "none"], ["attack paths cut", plan.attackPathsCut === null ? "—" : String(plan.attackPathsCut)],
      ["CLI", h("code", {}, plan.command)]]),
    plan.requests.length
      ? table("OpenAPI requests", [
        { title: "product", cell: (r) => r.product }, { title: "action", cell: (r) => h("code", {}, r.action) },
        { title: "region", cell: (r) => r.region }, { title: "parameters", cell: (r) => h("code", {}, JSON.stringify(r.params)) },
      ], plan.requests, { testid: "plan-requests" })
      : h("p", { class: "muted" }, "no API request: this fix is manual"),
    plan.manualSteps ? h("pre", { "data-testid": "manual-steps" }, plan.manualSteps) : null,
    h("details", {}, h("summary", {}, "the exact API request (POST /graphql)"), h("pre", {}, request)));
}

export async function remediationScreen(ctx: Ctx, p: Record<string, string>, main: HTMLElement): Promise<void> {
  const check = h("input", { name: "check", value: p.check ?? "", required: true, size: 40, placeholder: "ACS_OSS_BucketPublicAcl" });
  const assetInput = h("input", { name: "asset", value: p.asset ?? "", required: true, size: 30 });
  const form = h("form", { class: "filters", "aria-label": "remediation target" },
    field("Check item", check), field("Asset", assetInput), h("button", { type: "submit" }, "Show plan"));
  form.addEventListener("submit", (e) => { e.preventDefault(); update({ check: check.value.trim(), asset: assetInput.value.trim(), run: undefined }); });
  const result = h("div", { "aria-live": "polite", "data-testid": "remediation-result" });
  const audit = h("div");
  main.replaceChildren(h("h1", {}, "Remediation"), form, result, audit);
  if (ctx.can("operator")) {
    const entries = await auditLog(ctx.account, 30);
    audit.replaceChildren(section("Audit trail", table("audit trail", [
      { title: "at", cell: (a) => when(a.at) }, { title: "who", cell: (a) => a.who ?? "" }, { title: "action", cell: (a) => a.action },
      { title: "detail", cell: (a) => h("code", { class: "clip", title: a.detail ?? "" }, a.detail ?? "") },
    ], entries, { testid: "audit" })));
  }
  if (!p.check || !p.asset) {
    result.append(h("p", { class: "muted" }, "Name a check item and an asset (or open a finding) to see its fix."));
    return;
  }
  result.replaceChildren(loading());
  try {
    const plan = await remediationPlan(ctx.account, p.check, p.asset);
    const buttons = h("div", { class: "actions" });
    const outcome = h("div", { "aria-live": "polite" });
    if (ctx.can("operator")) {
      buttons.append(h("button", { type: "button", "data-testid": "dry-run", onclick: async () => {
        outcome.replaceChildren(loading());
        try {
          const r = await remediate(ctx.account, p.check, p.asset, true);
          outcome.replaceChildren(h("h3", { "data-testid": "dry-run-done" }, "Dry run: nothing was changed"), planView(ctx.account, r));
        } catch (err) { outcome.replaceChildren(errorBox(err)); }
      } }, "Dry run"));
    }
    if (ctx.can("admin")) {
      buttons.append(h("button", { type: "button", class: "danger", "data-testid": "execute", onclick: async () => {
        if (!confirm(`Send ${plan.requests.length} request(s) to Alibaba Cloud to fix ${p.check} on ${p.asset}?`)) return;
        outcome.replaceChildren(loading());
        try {
          const r = await remediate(ctx.account, p.check, p.asset, false);
          outcome.replaceChildren(h("h3", {}, `Executed: ${r.outcome ?? "done"}`), planView(ctx.account, r));
        } catch (err) { outcome.replaceChildren(errorBox(err)); }
      } }, "Execute fix"));
    }
    result.replaceChildren(h("h2", {}, `${p.check} on ${p.asset}`), planView(ctx.account, plan),
      ctx.can("operator") ? "" : h("p", { class: "muted" }, "Dry runs need the operator role, execution the admin role."),
      buttons, outcome);
  } catch (err) {
    result.replaceChildren(errorBox(err));
  }
}
