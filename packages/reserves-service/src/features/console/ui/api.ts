// The console's calls to the service's own API, with the credential the operator signed in with
// as `Authorization: Bearer …` (a JWT, or an API key: the service tells them apart). The API
// decides what a role may do; an error keeps its status, code and message for the page to show.

/** Who the credential belongs to (GET /console/session). */
export interface Session {
  sub: string
  role: 'admin' | 'auditor' | 'user'
  via: 'jwt' | 'api-key'
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** What the page says about a failed call: "Unauthorized: …", "Forbidden: …", else code and message. */
export function explain(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return `Unauthorized: ${err.message}`
    if (err.status === 403) return `Forbidden: ${err.message}`
    return `${err.code} (HTTP ${err.status}): ${err.message}${err.hint ? ` — ${err.hint}` : ''}`
  }
  return `Request failed: ${(err as Error)?.message ?? String(err)}`
}

export interface Api {
  get<T>(path: string): Promise<T>
  post<T>(path: string, body?: unknown): Promise<T>
}

type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{
  ok: boolean
  status: number
  text(): Promise<string>
}>

/** Calls under `base` (the service's root URL, ending in /) with `credential`. */
export function createApi(base: string, credential: string, fetchFn: Fetch): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${credential}`, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetchFn(new URL(path, base).toString(), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    let parsed: unknown = null
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      parsed = null
    }
    if (!res.ok) {
      const e = (parsed ?? {}) as { code?: string; message?: string; hint?: string }
      throw new ApiError(
        res.status,
        e.code ?? `HTTP_${res.status}`,
        e.message ?? (text.slice(0, 200) || 'no answer'),
        e.hint ?? null,
      )
    }
    return parsed as T
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
  }
}
