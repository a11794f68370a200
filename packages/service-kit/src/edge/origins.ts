/**
 * Cross-origin rules. HTTP: CORS headers only for origins in `http.cors` (none by default, `*` =
 * any), as geth's `--http.corsdomain`; a refused origin gets no CORS headers, so the browser keeps
 * the answer from the page. WebSocket (browsers do not apply CORS to it): an upgrade carrying an
 * `Origin` outside the list is refused with 403, and with an empty list only `http://localhost`
 * (any port) passes, as geth's `--ws.origins`; clients that send no Origin (not browsers) pass.
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  const o = origin.toLowerCase()
  return allowed.some((a) => a === '*' || a.toLowerCase() === o)
}

/** Whether a WebSocket upgrade with this `Origin` header may proceed. */
export function wsOriginAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true
  if (allowed.length > 0) return originAllowed(origin, allowed)
  return /^http:\/\/localhost(:\d+)?$/i.test(origin)
}
