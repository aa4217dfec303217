/**
 * A small typed client for the music streaming API.
 *
 * Everything is typed from `schema.d.ts`, which `make client` generates from the
 * server's OpenAPI schema. Calls name endpoints by path (`"/api/songs/"`), never by
 * operationId, so they survive operationId renames.
 *
 *   const api = createApiClient({ baseUrl: "http://localhost:8000", onSignOut: () => goToLogin() });
 *   await api.signIn("ada@example.com", "correct horse battery staple");
 *   const page = await api.listSongs({ search: "blue", limit: 20 });
 *   const { data, error } = await api.client.GET("/api/songs/{song_id}/", { params: { path: { song_id: 1 } } });
 */
import createClient, { defaultBodySerializer } from "openapi-fetch";
import type { Client, Middleware } from "openapi-fetch";
import type { paths } from "../schema.js";

export type { components, paths } from "../schema.js";

// ---------------------------------------------------------------------------
// Types taken from the schema by path, so they follow it as it changes.
// ---------------------------------------------------------------------------

/** The JSON body of an operation's 200 response. */
type Json200<Op> = Op extends { responses: { 200: { content: { "application/json": infer Body } } } }
  ? Body
  : never;

/** Each parameter may also be null, which means "not sent" (so a page's `next` goes straight in). */
type NullMeansAbsent<Query> = { [Name in keyof Query]?: Query[Name] | null };
/** Query parameters of GET /api/songs/ (search, artist, album_id, ordering, limit, offset, cursor). */
export type SongsQuery = NullMeansAbsent<NonNullable<paths["/api/songs/"]["get"]["parameters"]["query"]>>;
/** One page of GET /api/songs/: `{ items, count }`, plus whatever else the schema adds (e.g. `next`). */
export type SongPage = Json200<paths["/api/songs/"]["get"]>;
/** A song as the API returns it. */
export type Song = SongPage["items"][number];
/** The signed-in user, as POST /api/auth/login/ returns it. */
export type CurrentUser = Json200<paths["/api/auth/user/"]["get"]>;

/** The access and refresh JWTs. Refresh tokens rotate: each refresh returns a new pair. */
export interface TokenPair {
  access: string;
  refresh: string;
}

// ---------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------

/** Every error but 422: `{"detail": "<a sentence for people>"}`. */
export interface DetailError {
  detail: string;
}

/** One field error of a 422. `loc` is where, e.g. `["body", "email"]` or `["query", "limit"]`. */
export interface ValidationErrorItem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** 422: `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`. */
export interface ValidationError {
  detail: ValidationErrorItem[];
}

export type ApiErrorBody = DetailError | ValidationError;

export function isValidationError(body: unknown): body is ValidationError {
  return typeof body === "object" && body !== null && Array.isArray((body as { detail?: unknown }).detail);
}

/** Thrown by the wrapper's helpers (`signIn`, `listSongs`, ...) for any non-2xx answer. */
export class ApiError extends Error {
  readonly status: number;
  /** The parsed error body: `{detail: string}`, or the 422 list; undefined when the answer had no body. */
  readonly body: ApiErrorBody | undefined;
  readonly response: Response;

  constructor(response: Response, body: unknown) {
    const known = isApiErrorBody(body) ? body : undefined;
    super(describe(response, known));
    this.name = "ApiError";
    this.status = response.status;
    this.body = known;
    this.response = response;
  }

  /** The 422 field errors, or [] for other errors. */
  get fieldErrors(): ValidationErrorItem[] {
    return isValidationError(this.body) ? this.body.detail : [];
  }
}

function isApiErrorBody(body: unknown): body is ApiErrorBody {
  return (
    typeof body === "object" &&
    body !== null &&
    (typeof (body as { detail?: unknown }).detail === "string" || isValidationError(body))
  );
}

function describe(response: Response, body: ApiErrorBody | undefined): string {
  if (body === undefined) return `HTTP ${response.status} ${response.statusText}`.trim();
  if (typeof body.detail === "string") return body.detail;
  return body.detail.map((item) => `${item.loc.join(".")}: ${item.msg}`).join("; ");
}

/** The data of a 2xx answer; throws ApiError for anything else. */
export function unwrap<D>(result: { data?: D; error?: unknown; response: Response }): D {
  if (!result.response.ok) throw new ApiError(result.response, result.error);
  return result.data as D;
}

// ---------------------------------------------------------------------------
// Token storage
// ---------------------------------------------------------------------------

/** Where the tokens live. May be sync or async (e.g. a native secure store). */
export interface TokenStorage {
  get(): TokenPair | null | Promise<TokenPair | null>;
  /** `null` clears the tokens. */
  set(tokens: TokenPair | null): void | Promise<void>;
}

/** The default: tokens live only as long as the page (a reload signs out). */
export function memoryTokenStorage(initial: TokenPair | null = null): TokenStorage {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

/**
 * Tokens in `localStorage` or `sessionStorage` under `key`. Survives reloads, but any
 * script on the page can read it: mind XSS before choosing this.
 */
export function webTokenStorage(storage: Storage, key = "music-api.tokens"): TokenStorage {
  return {
    get() {
      const raw = storage.getItem(key);
      if (!raw) return null;
      try {
        const value: unknown = JSON.parse(raw);
        if (typeof value === "object" && value !== null) {
          const { access, refresh } = value as Partial<Record<keyof TokenPair, unknown>>;
          if (typeof access === "string" && typeof refresh === "string") return { access, refresh };
        }
      } catch {
        // A damaged entry counts as signed out.
      }
      return null;
    },
    set(tokens) {
      if (tokens) storage.setItem(key, JSON.stringify(tokens));
      else storage.removeItem(key);
    },
  };
}

// ---------------------------------------------------------------------------
// Request bodies: JSON, or multipart when there is a file
// ---------------------------------------------------------------------------

/**
 * The object as multipart form data: Blobs/Files as files, other values as text;
 * `undefined` and `null` are left out (the server reads a missing form field as
 * "not sent"; to set a field to null, send JSON, or in a form the text "null").
 */
export function toFormData(body: object): FormData {
  if (body instanceof FormData) return body;
  const form = new FormData();
  for (const [name, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Blob) form.append(name, value);
    else form.append(name, String(value));
  }
  return form;
}

function hasBlob(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    Object.values(body).some((value) => value instanceof Blob)
  );
}

/**
 * The client's default body serializer: multipart when a value is a Blob/File (the
 * only way to send one), else JSON. For a multipart-only endpoint called without a
 * file (e.g. POST /api/albums/ with no image), pass `bodySerializer: toFormData`.
 */
export function serializeBody(body: unknown): string | FormData {
  if (body instanceof FormData) return body;
  if (hasBlob(body)) return toFormData(body as object);
  return defaultBodySerializer(body);
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

/** Why the client signed out: the caller asked, or the session could not be refreshed. */
export type SignOutReason = "signed-out" | "session-expired";

export interface ApiClientOptions {
  /** The server's origin, e.g. "http://localhost:8000"; "" (the default) means the page's own. */
  baseUrl?: string;
  /** Where tokens are kept; in memory by default. */
  storage?: TokenStorage;
  /** Called after the tokens are cleared: by `signOut()` or when a refresh is refused. */
  onSignOut?: (reason: SignOutReason) => void;
  /** A fetch to use instead of the global one (tests, SSR). */
  fetch?: (input: Request) => Promise<Response>;
}

/** Paths that never carry the access token (and whose 401 means bad credentials). */
const PUBLIC_AUTH_PATHS: ReadonlySet<string> = new Set([
  "/api/auth/login/",
  "/api/auth/registration/",
  "/api/auth/token/refresh/",
]);
/** Paths whose 401 is not answered with refresh-and-retry. */
const NO_RETRY_PATHS: ReadonlySet<string> = new Set([...PUBLIC_AUTH_PATHS, "/api/auth/logout/"]);

interface Sent {
  /** A copy of the request as first sent, to send again after a refresh. */
  copy: Request;
  /** The access token it carried. */
  access: string;
}

export class ApiClient {
  /** The typed openapi-fetch client, with the auth middleware installed. */
  readonly client: Client<paths>;

  private readonly storage: TokenStorage;
  private readonly onSignOut: ((reason: SignOutReason) => void) | undefined;
  private readonly fetchImpl: (input: Request) => Promise<Response>;
  private readonly sent = new Map<string, Sent>();
  private refreshing: Promise<TokenPair | null> | null = null;
  /** Bumped on sign-in and sign-out, so a refresh that ends after either is dropped. */
  private session = 0;

  constructor(options: ApiClientOptions = {}) {
    this.storage = options.storage ?? memoryTokenStorage();
    this.onSignOut = options.onSignOut;
    const customFetch = options.fetch;
    // Called unbound: browsers refuse `fetch` called on another object.
    this.fetchImpl = customFetch ? (request) => customFetch(request) : (request) => globalThis.fetch(request);
    this.client = createClient<paths>({
      baseUrl: options.baseUrl ?? "",
      fetch: this.fetchImpl,
      bodySerializer: serializeBody,
    });
    this.client.use(this.authMiddleware());
  }

  /** The stored tokens, or null when signed out. */
  async tokens(): Promise<TokenPair | null> {
    return (await this.storage.get()) ?? null;
  }

  async isSignedIn(): Promise<boolean> {
    return (await this.tokens()) !== null;
  }

  /** POST /api/auth/login/: keeps the token pair and returns the user. Throws ApiError (401: wrong email or password). */
  async signIn(email: string, password: string) {
    const data = unwrap(await this.client.POST("/api/auth/login/", { body: { email, password } }));
    this.session += 1;
    await this.storage.set({ access: data.access, refresh: data.refresh });
    return data.user;
  }

  /**
   * Clears the tokens, calls `onSignOut("signed-out")`, then asks the server to
   * blacklist the refresh token (best effort: a network failure is ignored).
   */
  async signOut(): Promise<void> {
    const tokens = await this.tokens();
    await this.clearSession("signed-out");
    if (tokens) await this.revoke(tokens).catch(() => undefined);
  }

  /** GET /api/songs/: one page, `{ items, count }` (and `next` once the schema has it). Throws ApiError. */
  async listSongs(query: SongsQuery = {}): Promise<SongPage> {
    const sent = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== null));
    return unwrap(await this.client.GET("/api/songs/", { params: { query: sent } }));
  }

  // -- internals -------------------------------------------------------------

  private authMiddleware(): Middleware {
    return {
      onRequest: async ({ request, schemaPath, id }) => {
        if (PUBLIC_AUTH_PATHS.has(schemaPath) || request.headers.has("Authorization")) return undefined;
        const tokens = await this.tokens();
        if (!tokens) return undefined;
        request.headers.set("Authorization", `Bearer ${tokens.access}`);
        if (!NO_RETRY_PATHS.has(schemaPath)) {
          // Copied now, before fetch reads the body, so it can be sent again.
          this.sent.set(id, { copy: request.clone(), access: tokens.access });
        }
        return request;
      },
      onResponse: async ({ response, id }) => {
        const sent = this.sent.get(id);
        this.sent.delete(id);
        if (!sent || response.status !== 401) return undefined;
        const fresh = await this.refreshAfter401(sent.access);
        if (!fresh) return undefined; // signed out: the caller gets the 401
        sent.copy.headers.set("Authorization", `Bearer ${fresh.access}`);
        return this.fetchImpl(sent.copy); // once: this answer is final, even a 401
      },
      onError: ({ id }) => {
        this.sent.delete(id);
        return undefined;
      },
    };
  }

  /**
   * A usable pair after a 401 for `usedAccess`: one shared attempt at a time, so
   * concurrent 401s cause a single refresh (a rotated refresh token works only once).
   */
  private refreshAfter401(usedAccess: string): Promise<TokenPair | null> {
    if (!this.refreshing) {
      this.refreshing = this.refreshUnlessDone(usedAccess).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** The current pair if another request already refreshed past `usedAccess`, else a refresh; null if signed out. */
  private async refreshUnlessDone(usedAccess: string): Promise<TokenPair | null> {
    const current = await this.tokens();
    if (!current) return null;
    if (current.access !== usedAccess) return current;
    return this.refresh(current.refresh);
  }

  /**
   * POST /api/auth/token/refresh/ and store the new pair (the old refresh token is
   * now blacklisted). A refusal (any 4xx) signs out with "session-expired"; a server
   * error (5xx) keeps the tokens and returns null; a network error is thrown.
   */
  private async refresh(refreshToken: string): Promise<TokenPair | null> {
    const session = this.session;
    const { data, response } = await this.client.POST("/api/auth/token/refresh/", {
      body: { refresh: refreshToken },
    });
    if (session !== this.session) return null; // signed in or out meanwhile: not this session's to retry
    if (response.ok && data) {
      const pair: TokenPair = { access: data.access, refresh: data.refresh };
      await this.storage.set(pair);
      return pair;
    }
    if (response.status >= 400 && response.status < 500) await this.clearSession("session-expired");
    return null;
  }

  private async clearSession(reason: SignOutReason): Promise<void> {
    this.session += 1;
    await this.storage.set(null);
    this.onSignOut?.(reason);
  }

  /** Blacklists the refresh token; if the access token has expired, refreshes first (which blacklists the old one). */
  private async revoke(tokens: TokenPair): Promise<void> {
    const logout = (pair: TokenPair) =>
      this.client.POST("/api/auth/logout/", {
        body: { refresh: pair.refresh },
        headers: { Authorization: `Bearer ${pair.access}` },
      });
    const first = await logout(tokens);
    if (first.response.status !== 401) return;
    const { data } = await this.client.POST("/api/auth/token/refresh/", { body: { refresh: tokens.refresh } });
    if (data) await logout({ access: data.access, refresh: data.refresh });
  }
}

/** Shorthand for `new ApiClient(options)`. */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  return new ApiClient(options);
}
