import { isIP } from 'node:net'

/**
 * geth's virtual-host check (`--http.vhosts`, default `localhost`): a request whose `Host` header
 * names a host outside the list is refused with 403, which defeats DNS rebinding (a web page on
 * evil.com resolving its own name to 127.0.0.1). No Host header, an IP literal, or `*` in the
 * list always pass; names compare case-insensitively and without the port.
 */
export function hostAllowed(hostHeader: string | undefined, vhosts: readonly string[]): boolean {
  if (!hostHeader) return true
  // A client names the same host on every request: the last answer, for the same list.
  if (hostHeader === last.header && vhosts === last.vhosts) return last.allowed
  const host = hostName(hostHeader)
  const allowed = isIP(host) !== 0 || vhosts.some((v) => v === '*' || v.toLowerCase() === host)
  last = { header: hostHeader, vhosts, allowed }
  return allowed
}

/** The last check's inputs and answer (a reload swaps the list for a new array, which misses). */
let last: { header: string; vhosts: readonly string[]; allowed: boolean } = { header: '', vhosts: [], allowed: true }

/** `Example.com:8545` → `example.com`; `[::1]:8545` → `::1`. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined)
  const colon = h.lastIndexOf(':')
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h
}

/** The answer to a request with more than one Host header (Go's net/http's words, so geth's). */
export const TOO_MANY_HOSTS = '400 Bad Request: too many Host headers'

/**
 * Whether a request's raw header list (`IncomingMessage.rawHeaders`: name, value, name, value…)
 * names Host more than once. Node keeps only the first in `headers.host`, so the virtual-host
 * check would pass the first while a proxy or a later reader may act on another: HTTP/1.1 allows
 * exactly one (RFC 9112 §3.2), and Go's server answers 400 to more.
 */
export function repeatedHost(rawHeaders: readonly string[] | undefined): boolean {
  // A request made in memory (@fastify/websocket's injectWS) has no raw list: nothing came over a wire.
  if (rawHeaders === undefined) return false
  let seen = false
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue
    if (seen) return true
    seen = true
  }
  return false
}
