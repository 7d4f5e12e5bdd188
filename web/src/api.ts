// The one place the app talks to the service: the generated client (src/client), set up
// for this origin, with the signed-in session's access token held in memory only.
// The refresh token lives in an HttpOnly cookie scripts cannot read (POST /auth/session);
// a page load or an expiring access token trades it for a fresh access token.
import { client } from "./client/client.gen";
import {
  authSessionEnd,
  authSessionRefresh,
  authSessionStart,
} from "./client/sdk.gen";
import type { BrowserSession } from "./client/types.gen";

// Sent with every request: browser sign-in refuses requests without it, so another site's
// form (which cannot set headers) cannot drive it.
const BROWSER_HEADER = { "X-Requested-With": "restaurant-web" } as const;
// Refresh this long before the access token runs out.
const EARLY_MS = 30_000;

let accessToken: string | null = null;
let expiresAt = 0;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

function keep(session: BrowserSession | undefined): boolean {
  if (!session) {
    accessToken = null;
    expiresAt = 0;
  } else {
    accessToken = session.access_token;
    expiresAt = Date.now() + session.expires_in * 1000;
  }
  listeners.forEach((notify) => notify());
  return accessToken !== null;
}

/** Calls `notify` whenever the session starts or ends. */
export function onSessionChange(notify: () => void): () => void {
  listeners.add(notify);
  return () => listeners.delete(notify);
}

export function signedIn(): boolean {
  return accessToken !== null;
}

function trade(): Promise<boolean> {
  return authSessionRefresh({ headers: BROWSER_HEADER })
    .then(({ data }) => keep(data))
    .catch(() => keep(undefined));
}

/** Trades the refresh cookie for an access token; false when there is no session.
 * Each refresh rotates the cookie, and the service treats a rotated cookie presented
 * again as stolen (every token of the sign-in revoked). Tabs of one browser share the
 * cookie, so they refresh one at a time (Web Locks): each sends the cookie as the
 * previous one left it. */
export function refresh(): Promise<boolean> {
  if (!refreshing) {
    const run = navigator.locks
      ? navigator.locks.request("restaurant-refresh", trade).then((held) => held)
      : trade();
    refreshing = run.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function signIn(email: string, password: string) {
  const result = await authSessionStart({ body: { email, password }, headers: BROWSER_HEADER });
  if (result.data) keep(result.data);
  return result;
}

export async function signOut(): Promise<void> {
  try {
    await authSessionEnd({ headers: BROWSER_HEADER });
  } finally {
    keep(undefined);
  }
}

client.setConfig({
  baseUrl: "",
  headers: BROWSER_HEADER,
  credentials: "same-origin",
  auth: async () => {
    if (accessToken && Date.now() > expiresAt - EARLY_MS) await refresh();
    return accessToken ?? undefined;
  },
});

// A signed-in request refused as unauthenticated: the session is over (revoked, or the
// account changed its password elsewhere) unless a refresh still works.
client.interceptors.response.use(async (response, request) => {
  if (response.status === 401 && request.headers.has("Authorization") && accessToken) {
    await refresh();
  }
  return response;
});

export { client };
