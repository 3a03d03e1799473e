// The GraphQL transport: one POST per request, the token from this tab's session only.

const TOKEN_KEY = "skypath.token";
const ACCOUNT_KEY = "skypath.account";

export class ApiError extends Error {}
export class AuthRequired extends ApiError {}

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  setToken: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  account: (): string | null => sessionStorage.getItem(ACCOUNT_KEY),
  setAccount: (a: string) => sessionStorage.setItem(ACCOUNT_KEY, a),
  clear: () => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ACCOUNT_KEY);
  },
};

let pending = 0;

/** Requests in flight, on <body data-pending> and aria-busy (for assistive technology and the browser tests). */
function track(delta: number): void {
  pending += delta;
  document.body.dataset.pending = String(pending);
  document.body.setAttribute("aria-busy", String(pending > 0));
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const bearer = token ?? session.token();
  if (!bearer) throw new AuthRequired("log in with an API token");
  track(1);
  try {
    const res = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query, variables }),
    });
    if (res.status === 401) throw new AuthRequired("the token was refused: check it or create a new one");
    if (res.status === 403) throw new AuthRequired("this token cannot use the API (agent tokens only upload reports)");
    const doc = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (doc.errors?.length) throw new ApiError(doc.errors.map((e) => e.message).join("; "));
    return doc.data as T;
  } finally {
    track(-1);
  }
}
