// Every GraphQL document of the console, with small adapters to the shapes the screens use (severities in lower
// case, connections as pages). When the schema changes, this is the one file to adapt.

import { gql } from "./client";

export type Severity = "critical" | "high" | "medium" | "low";
export const SEVERITIES: Severity[] = ["critical", "high", "medium", "low"];
export const STATUSES = ["NOT_PASS", "PASS", "NOT_CHECK", "NOT_SUPPORTED", "WHITELIST"];
export const ORDERS: [string, string][] = [["WORST_FIRST", "severity (worst first)"], ["CHECK", "check item"],
  ["ASSET", "asset"], ["REGION", "region"]];

export interface Count { key: string; count: number }
export interface Caller { name: string; role: "viewer" | "operator" | "admin" }
export interface AccountRow { id: string; name: string | null; collectedAt: string | null }
export interface FindingsSummary { total: number; bySeverity: Count[]; byProduct: Count[]; byRegion: Count[] }
export interface CheckItem {
  id: string; title: string; product: string; severity: Severity; description: string; remediation: string;
  remediationAction: string | null; refs: string[];
}
export interface Finding {
  checkId: string; title: string; product: string; assetId: string; assetType: string; region: string;
  status: string; severity: Severity; stale: boolean; reason: string | null; lastSeen: string | null; item: CheckItem | null;
}
/** A page of a connection: `next` is the cursor of the following page (null on the last). */
export interface Page<T> { totalCount: number; nodes: T[]; next: string | null }
export interface AssetRow { id: string; type: string; region: string | null; name: string | null }
export interface GraphNode { key: string; id: string; type: string; label: string }
export interface GraphEdge { source: string; target: string; type: string }
export interface AssetDetail extends AssetRow {
  properties: { key: string; value: string }[]; nodes: GraphNode[]; edges: GraphEdge[];
}
export interface PathNode { type: string; id: string; label: string }
export interface PathEdge { type: string; detail: string; conditional: boolean }
export interface AttackPath {
  id: string; type: string; severity: Severity; conditional: boolean; entry: PathNode; target: PathNode;
  access: string[]; nodes: PathNode[]; edges: PathEdge[];
}
export interface ChokePoint {
  type: string; id: string; pathsCut: number; change: string; whatIf: string | null;
  fix: { checkId: string; assetId: string; command: string } | null;
}
export interface WhatIf { changes: string[]; pathsRemoved: number; pathsRemaining: number; removedPairs: [string, string][]; edgesRemoved: { type: string; from: string; to: string }[] }
export interface Scan { id: string; status: string; operation: string | null; started: string | null; authorizations: number }
export interface Billing {
  model: string; edition: string; cspm: boolean; quotaTotal: number; quotaUsed: number; quotaRemaining: number | null;
  expires: string | null; recommendedQuota: number; usageByDay: Count[]; usageByItem: Count[];
}
export interface LedgerEntry { at: string; amount: number; checkId: string | null; operation: string; who: string | null; assets: number }
export interface ComplianceItem { checkId: string; title: string; severity: Severity; pass: number; notPass: number; passRate: number | null }
export interface Requirement { id: string; title: string; status: string; reason: string | null; passRate: number | null; items: ComplianceItem[] }
export interface Section { id: string; title: string; pass: number; fail: number; notDecidable: number; passRate: number | null; requirements: Requirement[] }
export interface ComplianceReport {
  package: string; title: string; passRate: number | null; requirements: number; decidable: number;
  notDecidable: { id: string; title: string; reason: string | null }[]; sections: Section[];
}
export interface RemediationRequest { product: string; action: string; region: string | null; params: Record<string, string> }
export interface RemediationPlan {
  checkId: string; assetId: string; dryRun: boolean; automated: boolean; currentStatus: string | null;
  requests: RemediationRequest[]; effect: string; warnings: string[]; manualSteps: string | null; command: string;
  attackPathsCut: number | null; outcome: string | null;
}
export interface AuditEntry { at: string; who: string | null; action: string; detail: string | null }
export interface CypherResult { columns: string[]; rows: Record<string, unknown>[] }

type Json = Record<string, any>; // a response's `data`, typed by the adapters below

const lower = (s: string) => s.toLowerCase() as Severity;
const upper = (s: string | undefined) => (s ? s.toUpperCase() : null);
const nodes = <T>(c: Json): T[] => (c.edges as { node: T }[]).map((e) => e.node);
const page = <T, U>(c: Json, adapt: (n: T) => U): Page<U> =>
  ({ totalCount: c.totalCount, nodes: nodes<T>(c).map(adapt), next: c.pageInfo.hasNextPage ? c.pageInfo.endCursor : null });

// ------------------------------------------------------------------ session

export async function login(token: string): Promise<{ me: Caller; accounts: AccountRow[] }> {
  const d = await gql<Json>(`{ me { name role } accounts(first: 500) { edges { node { id name collectedAt } } } }`, {}, token);
  return { me: d.me, accounts: nodes(d.accounts) };
}

// ------------------------------------------------------------------ overview

const SUMMARY_FIELDS = `total bySeverity { severity count } byProduct { key count } byRegion { key count }`;
const adaptSummary = (s: Json): FindingsSummary => ({
  total: s.total, byProduct: s.byProduct, byRegion: s.byRegion,
  bySeverity: s.bySeverity.map((c: Json) => ({ key: lower(c.severity), count: c.count })),
});

export interface Overview { summary: FindingsSummary; scans: Scan[]; billing: Billing; packages: string[] }

export async function overview(accountId: string): Promise<Overview> {
  const d = await gql<Json>(`query($a: String!) {
    findingsSummary(accountId: $a, status: NOT_PASS) { ${SUMMARY_FIELDS} }
    packages
    account(id: $a) { scans(first: 5) { edges { node { id status operation started authorizations } } } ${BILLING_FIELDS} }
  }`, { a: accountId });
  return {
    summary: adaptSummary(d.findingsSummary), packages: d.packages, billing: adaptBilling(d.account.billing),
    scans: nodes<Json>(d.account.scans).map((s) => ({ ...s, status: String(s.status).toLowerCase() }) as Scan),
  };
}

// ------------------------------------------------------------------ findings

export interface FindingFilter {
  severity?: string; status?: string; checkId?: string; product?: string; region?: string; assetId?: string; order?: string;
}

const ITEM_FIELDS = `id title product severity description remediation remediationAction refs { package requirement }`;
const adaptItem = (i: Json | null): CheckItem | null => i && {
  ...i, severity: lower(i.severity), refs: (i.refs as Json[]).map((r) => `${r.package} ${r.requirement}`),
} as CheckItem;
const adaptFinding = (f: Json): Finding => ({
  checkId: f.checkId, assetId: f.assetId, assetType: f.assetType, region: f.region, status: f.status,
  severity: lower(f.severity), stale: f.stale, reason: f.reason, lastSeen: f.lastSeen, item: adaptItem(f.item),
  title: f.item?.title ?? f.checkId, product: f.item?.product ?? "",
});

/** `status`: one status, or "" for every status. */
export async function findings(accountId: string, f: FindingFilter, first: number, after: string | null): Promise<Page<Finding>> {
  const d = await gql<Json>(`query($a: String!, $severity: [Severity!], $status: [FindingStatus!], $checkId: String,
      $product: String, $region: String, $assetId: String, $order: FindingOrder!, $first: Int!, $after: String) {
    account(id: $a) { findings(severity: $severity, status: $status, checkId: $checkId, product: $product, region: $region,
        assetId: $assetId, order: $order, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { checkId assetId assetType region status severity stale reason lastSeen item { ${ITEM_FIELDS} } } } } } }`,
  {
    a: accountId, severity: f.severity ? [upper(f.severity)] : null, status: f.status ? [f.status] : null,
    checkId: f.checkId || null, product: f.product || null, region: f.region || null, assetId: f.assetId || null,
    order: f.order || "WORST_FIRST", first, after,
  });
  return page(d.account.findings, adaptFinding);
}

export async function findingFacets(accountId: string, status: string): Promise<FindingsSummary> {
  const d = await gql<Json>(`query($a: String!, $s: FindingStatus!) { findingsSummary(accountId: $a, status: $s) { ${SUMMARY_FIELDS} } }`,
    { a: accountId, s: status });
  return adaptSummary(d.findingsSummary);
}

export async function verify(accountId: string, checkId: string, assetId: string): Promise<{ status: string; results: string[] }> {
  const d = await gql<Json>(`mutation($a: String!, $c: String!, $x: String!) {
    verify(accountId: $a, checkId: $c, assetId: $x) { status results(first: 10) { edges { node { status } } } } }`,
  { a: accountId, c: checkId, x: assetId });
  return { status: d.verify.status, results: nodes<Json>(d.verify.results).map((r) => r.status) };
}

export async function whitelist(accountId: string, checkId: string, assetId: string, reason: string): Promise<void> {
  await gql(`mutation($a: String!, $c: String!, $x: String!, $r: String!) {
    whitelist(accountId: $a, checkId: $c, assetId: $x, reason: $r) { checkId } }`, { a: accountId, c: checkId, x: assetId, r: reason });
}

// ------------------------------------------------------------------ assets

export async function assetTypes(): Promise<string[]> {
  return (await gql<Json>(`{ assetTypes }`)).assetTypes;
}

export async function assets(accountId: string, f: { text?: string; type?: string; region?: string }, first: number,
  after: string | null): Promise<Page<AssetRow>> {
  const d = await gql<Json>(`query($a: String!, $search: String, $type: String, $region: String, $first: Int!, $after: String) {
    account(id: $a) { assets(search: $search, type: $type, region: $region, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id type region name } } } } }`,
  { a: accountId, search: f.text || null, type: f.type || null, region: f.region || null, first, after });
  return page(d.account.assets, (a: AssetRow) => a);
}

export async function asset(accountId: string, assetId: string): Promise<AssetDetail | null> {
  const d = await gql<Json>(`query($a: String!, $x: String!) { assetView(accountId: $a, assetId: $x) {
    id type region name properties { key value } nodes { key id type label } edges { source target type } } }`,
  { a: accountId, x: assetId });
  return d.assetView;
}

// ------------------------------------------------------------------ attack paths

export interface PathFilter { through?: string; entry?: string; target?: string }

export async function paths(accountId: string, f: PathFilter, first: number, after: string | null): Promise<Page<AttackPath>> {
  const d = await gql<Json>(`query($a: String!, $through: String, $entry: String, $target: String, $first: Int!, $after: String) {
    account(id: $a) { attackPaths(through: $through, entry: $entry, target: $target, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id type severity conditional access entry { type id label } target { type id label }
        nodes { type id label } edges { type detail conditional } } } } } }`,
  { a: accountId, through: f.through || null, entry: f.entry || null, target: f.target || null, first, after });
  return page(d.account.attackPaths, (p: Json) => ({ ...p, severity: lower(p.severity), access: p.access.map(lower) }) as AttackPath);
}

export async function chokePoints(accountId: string, first = 20): Promise<ChokePoint[]> {
  const d = await gql<Json>(`query($a: String!, $n: Int!) { account(id: $a) { chokePoints(first: $n) {
    edges { node { type id pathsCut change whatIf fix { checkId assetId command } } } } } }`, { a: accountId, n: first });
  return nodes(d.account.chokePoints);
}

export async function whatIf(accountId: string, changes: string[]): Promise<WhatIf> {
  const d = await gql<Json>(`query($a: String!, $w: [String!]!) { account(id: $a) { whatIf(changes: $w) {
    changes pathsRemoved pathsRemaining
    removedPairs(first: 500) { edges { node { entry target } } }
    edgesRemoved(first: 500) { edges { node { type source target } } } } } }`, { a: accountId, w: changes });
  const w = d.account.whatIf;
  return {
    changes: w.changes, pathsRemoved: w.pathsRemoved, pathsRemaining: w.pathsRemaining,
    removedPairs: nodes<Json>(w.removedPairs).map((p) => [p.entry, p.target]),
    edgesRemoved: nodes<Json>(w.edgesRemoved).map((e) => ({ type: e.type, from: e.source, to: e.target })),
  };
}

// ------------------------------------------------------------------ compliance

export async function packages(): Promise<string[]> {
  return (await gql<Json>(`{ packages }`)).packages;
}

export async function compliancePassRate(accountId: string, pkg: string): Promise<number | null> {
  const d = await gql<Json>(`query($a: String!, $p: String!) { account(id: $a) { complianceReport(package: $p) { passRate } } }`,
    { a: accountId, p: pkg });
  return d.account.complianceReport.passRate;
}

export async function compliance(accountId: string, pkg: string): Promise<ComplianceReport> {
  const d = await gql<Json>(`query($a: String!, $p: String!) { account(id: $a) { complianceReport(package: $p) {
    package title passRate summary { requirements decidable notDecidable(first: 500) { edges { node { id title reason } } } }
    sections { id title counts { pass fail notDecidable passRate }
      requirements(first: 500) { edges { node { id title status reason results { passRate }
        items { checkId title severity results { pass notPass passRate } } } } } } } } }`, { a: accountId, p: pkg });
  const r = d.account.complianceReport;
  return {
    package: r.package, title: r.title, passRate: r.passRate, requirements: r.summary.requirements,
    decidable: r.summary.decidable, notDecidable: nodes(r.summary.notDecidable),
    sections: (r.sections as Json[]).map((s) => ({
      id: s.id, title: s.title, pass: s.counts.pass, fail: s.counts.fail, notDecidable: s.counts.notDecidable,
      passRate: s.counts.passRate,
      requirements: nodes<Json>(s.requirements).map((q) => ({
        id: q.id, title: q.title, status: String(q.status).toLowerCase(), reason: q.reason, passRate: q.results.passRate,
        items: (q.items as Json[]).map((i) => ({
          checkId: i.checkId, title: i.title, severity: lower(i.severity), pass: i.results.pass, notPass: i.results.notPass,
          passRate: i.results.passRate,
        })),
      })),
    })),
  };
}

// ------------------------------------------------------------------ remediation

const PLAN_FIELDS = `checkId assetId dryRun automated currentStatus requests { product action region params { name value } }
  effect warnings manualSteps command attackPathsCut outcome`;

function adaptPlan(p: Json): RemediationPlan {
  return {
    ...p, effect: p.effect ?? "",
    requests: (p.requests as Json[]).map((r) => ({
      product: r.product, action: r.action, region: r.region,
      params: Object.fromEntries((r.params as Json[]).map((x) => [x.name, x.value])),
    })),
  } as RemediationPlan;
}

export async function remediationPlan(accountId: string, checkId: string, assetId: string): Promise<RemediationPlan> {
  const d = await gql<Json>(`query($a: String!, $c: String!, $x: String!) { account(id: $a) {
    remediationPlan(checkId: $c, assetId: $x) { ${PLAN_FIELDS} } } }`, { a: accountId, c: checkId, x: assetId });
  return adaptPlan(d.account.remediationPlan);
}

export const REMEDIATE_MUTATION = `mutation($accountId: String!, $checkId: String!, $assetId: String!, $dryRun: Boolean!) {
  remediate(accountId: $accountId, checkId: $checkId, assetId: $assetId, dryRun: $dryRun) { ${PLAN_FIELDS} } }`;

export async function remediate(accountId: string, checkId: string, assetId: string, dryRun: boolean): Promise<RemediationPlan> {
  const d = await gql<Json>(REMEDIATE_MUTATION, { accountId, checkId, assetId, dryRun });
  return adaptPlan(d.remediate);
}

export async function auditLog(accountId: string, first = 50): Promise<AuditEntry[]> {
  const d = await gql<Json>(`query($a: String!, $n: Int!) { account(id: $a) { auditLog(first: $n) {
    edges { node { at who action detail } } } } }`, { a: accountId, n: first });
  return nodes(d.account.auditLog);
}

// ------------------------------------------------------------------ billing

const BILLING_FIELDS = `billing { model edition cspm quotaTotal quotaUsed quotaRemaining expires recommendedQuota
  usage { byDay(first: 500) { edges { node { day amount } } } byItem(first: 500) { edges { node { checkId amount } } } } }`;

function adaptBilling(b: Json): Billing {
  return {
    ...b,
    usageByDay: nodes<Json>(b.usage.byDay).map((d) => ({ key: d.day, count: d.amount })),
    usageByItem: nodes<Json>(b.usage.byItem).map((d) => ({ key: d.checkId, count: d.amount })),
  } as Billing;
}

export async function billing(accountId: string, after: string | null): Promise<{ billing: Billing; ledger: Page<LedgerEntry> }> {
  const d = await gql<Json>(`query($a: String!, $after: String) { account(id: $a) { ${BILLING_FIELDS}
    ledger(first: 25, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { at amount checkId operation who assets(first: 1) { totalCount } } } } } }`, { a: accountId, after });
  return {
    billing: adaptBilling(d.account.billing),
    ledger: page(d.account.ledger, (e: Json) => ({ ...e, assets: e.assets.totalCount }) as LedgerEntry),
  };
}

// ------------------------------------------------------------------ cypher console

export async function runCypher(accountId: string, query: string): Promise<CypherResult> {
  const d = await gql<Json>(`query($a: String!, $q: String!) { runCypher(accountId: $a, query: $q, limit: 500) { columns rows } }`,
    { a: accountId, q: query });
  return d.runCypher;
}
