// Every GraphQL document of the console, with small adapters to the shapes the screens use.
// When the schema changes, this is the one file to adapt.

import { gql } from "./client";

export type Severity = "critical" | "high" | "medium" | "low";
export const SEVERITIES: Severity[] = ["critical", "high", "medium", "low"];
export const STATUSES = ["NOT_PASS", "PASS", "NOT_CHECK", "NOT_SUPPORTED", "WHITELIST"];

export interface Count { key: string; count: number }
export interface Caller { name: string; role: "viewer" | "operator" | "admin" }
export interface AccountRow { id: string; name: string | null; collectedAt: string | null }
export interface FindingsSummary { total: number; bySeverity: Count[]; byProduct: Count[]; byRegion: Count[] }
export interface Finding {
  checkId: string; title: string; product: string; assetId: string; assetType: string; region: string;
  status: string; severity: Severity; firstSeen: string | null; lastSeen: string | null;
}
export interface Page<T> { totalCount: number; nodes: T[] }
export interface CheckItem {
  id: string; title: string; product: string; assetType: string; severity: Severity; tier: string;
  description: string; remediation: string; remediationAction: string | null; refs: string[];
}
export interface AssetRow { id: string; type: string; region: string | null; name: string | null }
export interface GraphNode { key: string; id: string; type: string; label: string }
export interface GraphEdge { source: string; target: string; type: string }
export interface AssetDetail extends AssetRow {
  properties: { key: string; value: string }[]; nodes: GraphNode[]; edges: GraphEdge[];
}
export interface PathNode { type: string; id: string }
export interface PathEdge { type: string; detail: string; conditional: boolean }
export interface AttackPath {
  id: string; type: string; severity: Severity; conditional: boolean; entry: PathNode; target: PathNode;
  access: string[]; nodes: PathNode[]; edges: PathEdge[];
}
export interface ChokePoint { type: string; id: string; pathsCut: number; change: string; whatIf: string | null }
export interface WhatIf {
  changes: string[]; pathsRemoved: number; pathsRemaining: number; removedPairs: [string, string][];
  edgesRemoved: { type: string; from: string; to: string }[];
}
export interface Scan { id: string; status: string; operation: string | null; started: string | null; finished: string | null; authorizations: number }
export interface Billing {
  model: string; edition: string; cspm: boolean; quotaTotal: number; quotaUsed: number; quotaRemaining: number | null;
  expires: string | null; recommendedQuota: number; usageByDay: Count[]; usageByItem: Count[];
}
export interface LedgerEntry { at: string; amount: number; checkId: string; operation: string; who: string; scanId: string; assets: number }
export interface ComplianceItem { checkId: string; title: string; severity: Severity; pass: number; notPass: number; passRate: number | null }
export interface Requirement {
  id: string; title: string; status: string; reason: string | null; pass: number; notPass: number;
  passRate: number | null; items: ComplianceItem[];
}
export interface Section { id: string; title: string; total: number; pass: number; fail: number; notDecidable: number; passRate: number | null; requirements: Requirement[] }
export interface ComplianceReport {
  package: string; title: string; passRate: number | null; requirements: number; decidable: number;
  notDecidable: { id: string; title: string; reason: string }[]; sections: Section[];
}
export interface RemediationRequest { product: string; action: string; region: string; params: Record<string, unknown>; undo: unknown }
export interface RemediationPlan {
  checkId: string; assetId: string; dryRun: boolean; currentStatus: string | null; requests: RemediationRequest[];
  effect: string; warnings: string[]; manualSteps: string[]; raw: Record<string, unknown>;
}
export interface AuditEntry { at: string; who: string; action: string; detail: string }
export interface CypherResult { columns: string[]; rows: Record<string, unknown>[] }

type Json = Record<string, any>; // the untyped JSON fields of the current schema, adapted below

const toCounts = (o: Record<string, number> | undefined): Count[] =>
  Object.entries(o ?? {}).map(([key, count]) => ({ key, count }));

// ------------------------------------------------------------------ session

export async function login(token: string): Promise<{ me: Caller; accounts: AccountRow[] }> {
  return gql(`{ me { name role } accounts { id name collectedAt } }`, {}, token);
}

// ------------------------------------------------------------------ overview

export interface Overview {
  summary: FindingsSummary; scans: Scan[]; billing: Billing; packages: string[];
}

export async function overview(accountId: string): Promise<Overview> {
  const d = await gql<Json>(`query($a: String!) {
    findingsSummary(accountId: $a, status: "NOT_PASS") { total bySeverity { key count } byProduct { key count } byRegion { key count } }
    packages
    account(id: $a) { scans(first: 5) { id status operation started finished authorizations } ${BILLING_FIELDS} }
  }`, { a: accountId });
  return { summary: d.findingsSummary, scans: d.account.scans, billing: adaptBilling(d.account.billing), packages: d.packages };
}


// ------------------------------------------------------------------ findings

export interface FindingFilter {
  severity?: string; status?: string; checkId?: string; product?: string; region?: string; assetId?: string; sort?: string;
}

export async function findings(accountId: string, f: FindingFilter, first: number, offset: number): Promise<Page<Finding>> {
  const d = await gql<Json>(`query($a: String!, $severity: String, $status: String, $checkId: String, $product: String,
      $region: String, $assetId: String, $sort: String!, $first: Int!, $offset: Int!) {
    findingPage(accountId: $a, severity: $severity, status: $status, checkId: $checkId, product: $product, region: $region,
                assetId: $assetId, sort: $sort, first: $first, offset: $offset) {
      totalCount nodes { checkId title product assetId assetType region status severity firstSeen lastSeen } } }`,
  { a: accountId, ...blankToNull(f), sort: f.sort || "severity", first, offset });
  return d.findingPage;
}

export async function findingFacets(accountId: string, status: string): Promise<FindingsSummary> {
  const d = await gql<Json>(`query($a: String!, $s: String!) {
    findingsSummary(accountId: $a, status: $s) { total bySeverity { key count } byProduct { key count } byRegion { key count } } }`,
  { a: accountId, s: status });
  return d.findingsSummary;
}

export async function checkItem(accountId: string, id: string): Promise<CheckItem | null> {
  const d = await gql<Json>(`query($a: String!, $id: String!) { checkItem(accountId: $a, id: $id) {
    id title product assetType severity tier description remediation remediationAction refs } }`, { a: accountId, id });
  return d.checkItem;
}

export async function verify(accountId: string, checkId: string, assetId: string): Promise<{ status: string; results: { status: string }[] }> {
  const d = await gql<Json>(`mutation($a: String!, $c: String!, $x: String!) {
    verify(accountId: $a, checkId: $c, assetId: $x) { status results { assetId status } } }`, { a: accountId, c: checkId, x: assetId });
  return d.verify;
}

export async function whitelist(accountId: string, checkId: string, assetId: string, reason: string): Promise<void> {
  await gql(`mutation($a: String!, $c: String!, $x: String!, $r: String!) {
    whitelist(accountId: $a, checkId: $c, assetId: $x, reason: $r) }`, { a: accountId, c: checkId, x: assetId, r: reason });
}

// ------------------------------------------------------------------ assets

export async function assetTypes(): Promise<string[]> {
  return (await gql<Json>(`{ assetTypes }`)).assetTypes;
}

export async function assets(accountId: string, f: { text?: string; type?: string; region?: string }, first: number,
  offset: number): Promise<Page<AssetRow>> {
  const d = await gql<Json>(`query($a: String!, $text: String, $type: String, $region: String, $first: Int!, $offset: Int!) {
    assetSearch(accountId: $a, text: $text, type: $type, region: $region, first: $first, offset: $offset) {
      totalCount nodes { id type region name } } }`, { a: accountId, ...blankToNull(f), first, offset });
  return d.assetSearch;
}

export async function asset(accountId: string, assetId: string): Promise<AssetDetail | null> {
  const d = await gql<Json>(`query($a: String!, $x: String!) { assetDetail(accountId: $a, assetId: $x) {
    id type region name properties { key value } nodes { key id type label } edges { source target type } } }`,
  { a: accountId, x: assetId });
  return d.assetDetail;
}

// ------------------------------------------------------------------ attack paths

const PATH_FIELDS = `id type severity conditional entry { type id } target { type id } access
  nodes { type id } edges { type detail conditional }`;

export interface PathFilter { through?: string; entry?: string; target?: string }

export async function paths(accountId: string, f: PathFilter, first: number, offset: number): Promise<Page<AttackPath>> {
  const d = await gql<Json>(`query($a: String!, $through: String, $entry: String, $target: String, $first: Int!, $offset: Int!) {
    pathsPage(accountId: $a, through: $through, entry: $entry, target: $target, first: $first, offset: $offset) {
      totalCount nodes { ${PATH_FIELDS} } } }`, { a: accountId, ...blankToNull(f), first, offset });
  return d.pathsPage;
}

export async function chokePoints(accountId: string, first = 20): Promise<ChokePoint[]> {
  const d = await gql<Json>(`query($a: String!, $n: Int!) { account(id: $a) { attackPaths {
    chokePoints(first: $n) { type id pathsCut change whatIf } } } }`, { a: accountId, n: first });
  return d.account.attackPaths.chokePoints;
}

export async function whatIf(accountId: string, changes: string[]): Promise<WhatIf> {
  const d = await gql<Json>(`query($a: String!, $w: [String!]) { account(id: $a) { attackPaths(whatIf: $w) { whatIf } } }`,
    { a: accountId, w: changes });
  const w = d.account.attackPaths.whatIf as Json;
  return {
    changes: w.changes, pathsRemoved: w.paths_removed, pathsRemaining: w.paths_remaining,
    removedPairs: w.removed_pairs, edgesRemoved: w.edges_removed,
  };
}

// ------------------------------------------------------------------ compliance

export async function packages(): Promise<string[]> {
  return (await gql<Json>(`{ packages }`)).packages;
}

export async function compliance(accountId: string, pkg: string): Promise<ComplianceReport> {
  const d = await gql<Json>(`query($a: String!, $p: String!) { account(id: $a) { complianceReport(package: $p) } }`,
    { a: accountId, p: pkg });
  const r = d.account.complianceReport as Json;
  return {
    package: r.package, title: r.title, passRate: r.pass_rate, requirements: r.summary.requirements,
    decidable: r.summary.decidable, notDecidable: r.summary.not_decidable,
    sections: (r.sections as Json[]).map((s) => ({
      id: s.id, title: s.title, total: s.total, pass: s.pass, fail: s.fail, notDecidable: s.not_decidable,
      passRate: s.pass_rate,
      requirements: (s.requirements as Json[]).map((q) => ({
        id: q.id, title: q.title, status: q.status, reason: q.reason, pass: q.pass, notPass: q.not_pass,
        passRate: q.pass_rate,
        items: (q.items as Json[]).map((i) => ({
          checkId: i.check_id, title: i.title, severity: i.severity, pass: i.pass, notPass: i.not_pass, passRate: i.pass_rate,
        })),
      })),
    })),
  };
}

// ------------------------------------------------------------------ remediation

function adaptPlan(p: Json): RemediationPlan {
  return {
    checkId: p.check_id, assetId: p.asset_id, dryRun: p.dry_run ?? true, currentStatus: p.current_status ?? null,
    requests: p.requests ?? [], effect: p.effect ?? "", warnings: p.warnings ?? [], manualSteps: p.manual_steps ?? [], raw: p,
  };
}

export async function remediationPlan(accountId: string, checkId: string, assetId: string): Promise<RemediationPlan> {
  const d = await gql<Json>(`query($a: String!, $c: String!, $x: String!) { account(id: $a) {
    remediationPlan(checkId: $c, assetId: $x) } }`, { a: accountId, c: checkId, x: assetId });
  return adaptPlan(d.account.remediationPlan);
}

export const REMEDIATE_MUTATION = `mutation($accountId: String!, $checkId: String!, $assetId: String!, $dryRun: Boolean!) {
  remediate(accountId: $accountId, checkId: $checkId, assetId: $assetId, dryRun: $dryRun) }`;

export async function remediate(accountId: string, checkId: string, assetId: string, dryRun: boolean): Promise<RemediationPlan> {
  const d = await gql<Json>(REMEDIATE_MUTATION, { accountId, checkId, assetId, dryRun });
  return adaptPlan(d.remediate);
}

export async function auditLog(accountId: string, first = 50): Promise<AuditEntry[]> {
  const d = await gql<Json>(`query($a: String!, $n: Int!) { account(id: $a) { auditLog(first: $n) } }`, { a: accountId, n: first });
  return d.account.auditLog;
}

// ------------------------------------------------------------------ billing

const BILLING_FIELDS = `billing { model edition cspm quotaTotal quotaUsed quotaRemaining expires recommendedQuota usage }`;

function adaptBilling(b: Json): Billing {
  return { ...b, usageByDay: toCounts(b.usage?.by_day), usageByItem: toCounts(b.usage?.by_item) } as Billing;
}

export async function billing(accountId: string, after: string | null): Promise<{ billing: Billing; ledger: LedgerEntry[]; next: string | null }> {
  const d = await gql<Json>(`query($a: String!, $after: String) { account(id: $a) { ${BILLING_FIELDS}
    ledger(first: 25, after: $after) { entries endCursor hasNextPage } } }`, { a: accountId, after });
  const l = d.account.ledger;
  return {
    billing: adaptBilling(d.account.billing),
    ledger: (l.entries as Json[]).map((e) => ({
      at: e.at, amount: e.amount, checkId: e.check_id, operation: e.operation, who: e.who, scanId: e.scan_id,
      assets: (e.assets ?? []).length,
    })),
    next: l.hasNextPage ? l.endCursor : null,
  };
}

// ------------------------------------------------------------------ cypher console

export async function runCypher(accountId: string, query: string): Promise<CypherResult> {
  const d = await gql<Json>(`mutation($a: String!, $q: String!) { runCypher(accountId: $a, query: $q, limit: 500) { columns rows } }`,
    { a: accountId, q: query });
  return d.runCypher;
}

function blankToNull<T extends object>(o: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === "" || v === undefined ? null : v]));
}
