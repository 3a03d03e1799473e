// The console shell: log-in with an API token (kept in this tab's sessionStorage only), the account picker,
// the navigation and the screen of the current URL.

import "./style.css";
import { AuthRequired, session } from "./api/client";
import { login, type AccountRow, type Caller } from "./api/queries";
import { current, go, href } from "./router";
import { errorBox, h } from "./ui";
import { assetsScreen } from "./screens/assets";
import { billingScreen } from "./screens/billing";
import { complianceScreen } from "./screens/compliance";
import { cypherScreen } from "./screens/cypher";
import { findingsScreen } from "./screens/findings";
import { overviewScreen } from "./screens/overview";
import { pathsScreen } from "./screens/paths";
import { remediationScreen } from "./screens/remediation";

export interface Ctx { account: string; me: Caller; can: (role: "operator" | "admin") => boolean }
type Screen = (ctx: Ctx, params: Record<string, string>, main: HTMLElement) => Promise<void>;

const SCREENS: [string, string, Screen][] = [
  ["overview", "Overview", overviewScreen],
  ["findings", "Findings", findingsScreen],
  ["assets", "Assets", assetsScreen],
  ["compliance", "Compliance", complianceScreen],
  ["paths", "Attack paths", pathsScreen],
  ["remediation", "Remediation", remediationScreen],
  ["billing", "Billing", billingScreen],
  ["cypher", "Cypher console", cypherScreen],
];
const RANK = { viewer: 0, operator: 1, admin: 2 };

const app = document.getElementById("app")!;
let who: { me: Caller; accounts: AccountRow[] } | null = null;
let renderSeq = 0;

function loginScreen(message?: string): void {
  const input = h("input", { type: "password", id: "token", name: "token", autocomplete: "off", required: true, placeholder: "skp_…", size: 48 });
  const form = h("form", { class: "login card", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Skypath console"),
    h("p", {}, "Log in with an API token (", h("code", {}, "skypath token create --role viewer --account ID"),
      "). It is kept for this browser tab only."),
    h("label", { htmlFor: "token" }, "API token"), input,
    h("button", { type: "submit" }, "Log in"),
    message ? errorBox(message) : null);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      who = await login(input.value.trim());
      session.setToken(input.value.trim());
      render();
    } catch (err) {
      loginScreen(err instanceof Error ? err.message : String(err));
    }
  });
  app.replaceChildren(h("main", { id: "main" }, form));
  input.focus();
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  if (!session.token()) return loginScreen();
  try {
    who ??= await login(session.token()!);
  } catch (err) {
    session.clear();
    return loginScreen(err instanceof Error ? err.message : String(err));
  }
  const { screen, params } = current();
  const accounts = who.accounts;
  const account = params.account && accounts.some((a) => a.id === params.account) ? params.account
    : accounts.some((a) => a.id === session.account()) ? session.account()! : accounts[0]?.id;
  if (!account) {
    app.replaceChildren(h("main", { id: "main" }, errorBox("this token sees no account")));
    return;
  }
  session.setAccount(account);
  const me = who.me;
  const ctx: Ctx = { account, me, can: (role) => RANK[me.role] >= RANK[role] };
  const entry = SCREENS.find(([id]) => id === screen) ?? SCREENS[0];
  const picker = h("select", { id: "account", "aria-label": "account" },
    accounts.map((a) => h("option", { value: a.id, selected: a.id === account }, `${a.name ?? a.id} (${a.id})`)));
  picker.addEventListener("change", () => { session.setAccount(picker.value); go(entry[0], {}); });
  const main = h("main", { id: "main", tabIndex: -1 });
  app.replaceChildren(
    h("a", { class: "skip", href: "#main", onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, "Skip to content"),
    h("header", { class: "top" },
      h("span", { class: "brand" }, "Skypath"),
      picker,
      h("span", { class: "who", "data-testid": "role" }, `${me.role} · ${me.name}`),
      h("button", { type: "button", onclick: () => { session.clear(); who = null; location.hash = ""; loginScreen(); } }, "Log out")),
    h("div", { class: "layout" },
      h("nav", { class: "side", "aria-label": "screens" }, h("ul", {}, SCREENS.map(([id, title]) =>
        h("li", {}, h("a", { href: href(id), "aria-current": id === entry[0] ? "page" : undefined }, title))))),
      main));
  document.title = `${entry[1]} · Skypath`;
  try {
    await entry[2](ctx, params, main);
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof AuthRequired) { session.clear(); who = null; return loginScreen(err.message); }
    main.append(errorBox(err));
  }
}

window.addEventListener("hashchange", () => { void render(); });
void render();
