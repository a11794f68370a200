// Recognizes the one request shape the JSON-RPC port's fast lane answers (fast-lane.ts): a plain
// `POST / HTTP/1.1` with a Content-Length body and nothing that needs the full server. It is a
// filter, not a general HTTP parser: whatever it does not recognize exactly — another method, path
// or version, a header it does not treat (Transfer-Encoding, Upgrade, Expect, Origin, Connection
// other than keep-alive, Proxy-Connection), a repeated header, a character a header may not hold,
// an obsolete line fold, a missing Host, a Content-Length llhttp would not read, more header lines
// than a JSON-RPC client sends — makes it answer `null`, and the connection goes to Node's HTTP
// parser (llhttp), which answers it as before. So the lane never accepts what Node would refuse,
// and never reads a body length Node would read differently (request smuggling needs two parsers
// disagreeing on one).

/** A request head the fast lane may answer. */
export interface PlainPost {
  /** Header names lower-cased, each given once, values without surrounding whitespace. */
  headers: Record<string, string>
  /** Bytes of the head, request line to the blank line included. */
  headLength: number
  /** The body's length (Content-Length). */
  bodyLength: number
}

/** What the head's scan found: a plain POST, not one (`null`), or more bytes needed. */
export type HeadScan = PlainPost | null | 'incomplete'

const REQUEST_LINE = 'POST / HTTP/1.1\r\n'
/** Node's default `maxHeaderSize`: a longer head goes to Node, which answers 431. */
export const MAX_HEAD_BYTES = 16 * 1024
/** Characters of an HTTP token (RFC 9110 `tchar`), by code. */
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1
/**
 * A Content-Length value after its leading whitespace, as llhttp reads it: digits, then spaces only
 * (a tab after the digits is a 400 there, "Invalid character in Content-Length").
 */
const CONTENT_LENGTH = /^[0-9]{1,15} *$/
/**
 * Header lines the lane takes: far more than a JSON-RPC client sends, far fewer than the 1,000 Node
 * keeps (its `maxHeaderPairs`: a Host or Content-Type past them is not seen there).
 */
export const MAX_HEADERS = 100
/**
 * Headers whose meaning the lane does not implement: their requests go to Node and Fastify.
 * Proxy-Connection is one: llhttp reads it as Connection (`close` ends the connection there).
 */
const NOT_HERE = new Set([
  'transfer-encoding',
  'upgrade',
  'expect',
  'origin',
  'http2-settings',
  'te',
  'trailer',
  'proxy-connection',
])

/** What no head holds: a control character but tab, or a CR or LF other than in a CRLF (a CR last may start one). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NOT_IN_HEAD = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n|$)|(?<!\r)\n/

/** Space or horizontal tab (optional whitespace around a header value). */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09
}

/**
 * Scans the head at the start of `buf` (see the file's comment). A head longer than `maxHead` bytes
 * (at most {@link MAX_HEAD_BYTES}; the server's own `maxHeaderSize` when smaller) is not the lane's.
 * `scanned`: the length of `buf` when this scan last answered 'incomplete' for it (its start is the
 * same): those bytes are not looked at again, so a head arriving a byte at a time costs its length,
 * not its square.
 */
export function scanPlainPost(buf: Buffer, maxHead = MAX_HEAD_BYTES, scanned = 0): HeadScan {
  const cap = Math.min(maxHead, MAX_HEAD_BYTES)
  const limit = Math.min(buf.length, cap)
  // The request line first: anything else is not for the lane, however much has arrived.
  const lineLength = Math.min(limit, REQUEST_LINE.length)
  if (buf.toString('latin1', 0, lineLength) !== REQUEST_LINE.slice(0, lineLength)) return null
  const end = buf.indexOf('\r\n\r\n', Math.max(REQUEST_LINE.length - 2, scanned - 3), 'latin1')
  if (end < 0 || end + 4 > cap) {
    if (limit >= cap) return null
    // A head still arriving that llhttp refuses already (a bare LF or CR, a NUL) goes to Node now,
    // which answers it 400 at once, rather than when its end arrives or it times out (408). Only
    // the new bytes are checked, and the CR before them, which may pair with an LF among them.
    const from = scanned > REQUEST_LINE.length && buf[scanned - 1] === 0x0d ? scanned - 1 : scanned
    return NOT_IN_HEAD.test(buf.toString('latin1', Math.max(REQUEST_LINE.length, from), limit)) ? null : 'incomplete'
  }
  const headers: Record<string, string> = {}
  const text = buf.toString('latin1', 0, end)
  // Each header line, from after the request line to the blank line.
  let lines = 0
  for (let at = REQUEST_LINE.length; at < end; ) {
    if (++lines > MAX_HEADERS) return null
    let eol = text.indexOf('\r\n', at)
    if (eol < 0) eol = end
    const colon = text.indexOf(':', at)
    if (colon <= at || colon >= eol) return null
    for (let i = at; i < colon; i++) {
      const c = text.charCodeAt(i)
      if (c >= 128 || TCHAR[c] === 0) return null
    }
    // The value without the whitespace around it; no control character but tab, and no DEL.
    let from = colon + 1
    let to = eol
    while (from < to && isBlank(text.charCodeAt(from))) from++
    while (to > from && isBlank(text.charCodeAt(to - 1))) to--
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i)
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return null
    }
    const key = text.slice(at, colon).toLowerCase()
    // Already there: a repeated header, or a name every object has (`constructor`, `__proto__`).
    if (headers[key] !== undefined || NOT_HERE.has(key)) return null
    if (key === 'content-length' && !CONTENT_LENGTH.test(text.slice(from, eol))) return null
    headers[key] = text.slice(from, to)
    at = eol + 2
  }
  // HTTP/1.1 requires Host; Node answers a request without it 400 (its `requireHostHeader`).
  if (headers.host === undefined) return null
  const length = headers['content-length']
  if (length === undefined) return null
  const connection = headers.connection
  if (connection !== undefined && connection.toLowerCase() !== 'keep-alive') return null
  return { headers, headLength: end + 4, bodyLength: Number(length) }
}
