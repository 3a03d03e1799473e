// Small DOM helpers: elements built with properties (never innerHTML from data), tables, pagers, badges.

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, unknown> & { class?: string; dataset?: Record<string, string> };

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    else if (k in el && !k.includes("-")) (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const SEVERITY_MARK: Record<string, string> = { critical: "▲▲", high: "▲", medium: "■", low: "▽" };

/** Severity as a badge: colour, a shape and the word (colour is never the only carrier). */
export function severityBadge(sev: string): HTMLElement {
  return h("span", { class: `badge sev-${sev}` }, h("span", { "aria-hidden": "true" }, SEVERITY_MARK[sev] ?? "•"), " ", sev);
}

export function statusBadge(status: string): HTMLElement {
  return h("span", { class: `badge status-${status}` }, status.replace("_", " ").toLowerCase());
}

export function pct(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "n/a" : `${Math.round(rate * 1000) / 10}%`;
}

export function rateBar(rate: number | null, label: string): HTMLElement {
  const width = rate === null ? 0 : Math.round(rate * 100);
  return h("div", { class: "rate" },
    h("div", { class: "bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(width), "aria-label": label },
      h("div", { class: "fill", style: `width:${width}%` })),
    h("span", { class: "rate-text" }, pct(rate)));
}

export interface Column<T> { title: string; cell: (row: T) => Child | Child[]; sortKey?: string }

/** A table whose rows are keyboard-selectable (Enter/Space) when `onSelect` is given. */
export function table<T>(caption: string, cols: Column<T>[], rows: T[], opts: {
  onSelect?: (row: T) => void; selected?: (row: T) => boolean; rowId?: (row: T) => string; testid?: string;
} = {}): HTMLTableElement {
  return h("table", { "data-testid": opts.testid },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c.title)))),
    h("tbody", {}, rows.length === 0
      ? h("tr", {}, h("td", { colSpan: cols.length, class: "empty" }, "nothing to show"))
      : rows.map((r) => {
        const tr = h("tr", {
          class: opts.selected?.(r) ? "selected" : "", "data-row": opts.rowId?.(r),
          "aria-selected": opts.onSelect ? String(!!opts.selected?.(r)) : undefined,
        }, cols.map((c) => h("td", {}, c.cell(r))));
        if (opts.onSelect) {
          tr.tabIndex = 0;
          tr.classList.add("clickable");
          tr.addEventListener("click", () => opts.onSelect!(r));
          tr.addEventListener("keydown", (e) => {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); opts.onSelect!(r); }
          });
        }
        return tr;
      })));
}

/** Paging through a connection: the URL holds the cursor (`after`) and the page number; "previous" goes back in
the browser history, the way the page was reached. */
export function pager(total: number, pageNo: number, size: number, next: string | null,
  go: (after: string | undefined, pageNo: number) => void): HTMLElement {
  const start = (pageNo - 1) * size;
  const end = Math.min(total, start + size);
  return h("nav", { class: "pager", "aria-label": "pages" },
    h("button", { type: "button", disabled: pageNo <= 1, onclick: () => history.back() }, "← previous"),
    h("span", { "data-testid": "page-range" }, total === 0 ? "0 of 0" : `${start + 1}–${end} of ${total}`),
    h("button", { type: "button", disabled: !next, onclick: () => go(next ?? undefined, pageNo + 1) }, "next →"),
    pageNo > 1 ? h("button", { type: "button", onclick: () => go(undefined, 1) }, "first page") : null);
}

/** The page parameters of a screen's URL. */
export function pageParams(p: Record<string, string>): { after: string | null; pageNo: number } {
  return { after: p.after ?? null, pageNo: Number(p.page ?? 1) || 1 };
}

export function field(label: string, control: HTMLElement): HTMLElement {
  const id = control.id || `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { htmlFor: id }, label), control);
}

export function select(name: string, options: (string | [string, string])[], value: string | undefined): HTMLSelectElement {
  return h("select", { name },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o || "any"];
      return h("option", { value: v, selected: v === (value ?? "") }, text);
    }));
}

export function errorBox(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  return h("div", { class: "error", role: "alert" }, message);
}

export function loading(): HTMLElement {
  return h("p", { class: "muted", role: "status" }, "loading…");
}

export function kv(rows: [string, Child | Child[]][]): HTMLElement {
  return h("dl", { class: "kv" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]).flat());
}

export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...children);
}

export function when(iso: string | null | undefined): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z?$/, "").replace(/Z$/, "") : "—";
}
