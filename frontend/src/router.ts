// Hash routing: every screen and selection lives in the URL (#/screen?key=value), so a reload or a shared
// link shows the same state.

export type Params = Record<string, string>;
export interface Route { screen: string; params: Params }

export function current(): Route {
  const raw = location.hash.replace(/^#\/?/, "");
  const [screen, query = ""] = raw.split("?", 2);
  const params: Params = {};
  new URLSearchParams(query).forEach((v, k) => { if (v !== "") params[k] = v; });
  return { screen: screen || "overview", params };
}

export function href(screen: string, params: Params = {}): string {
  const clean = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  const query = new URLSearchParams(clean).toString();
  return `#/${screen}${query ? `?${query}` : ""}`;
}

export function go(screen: string, params: Params = {}): void {
  location.hash = href(screen, params);
}

/** Change some parameters of the current screen (undefined or "" removes one). */
export function update(changes: Record<string, string | undefined>): void {
  const { screen, params } = current();
  const next: Params = { ...params };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === "") delete next[k];
    else next[k] = v;
  }
  go(screen, next);
}
