// Recognizes the one request shape the JSON-RPC port's fast lane answers (fast-lane.ts): a plain
// `POST / HTTP/1.1` with a Content-Length body and nothing that needs the full server. It is a
// filter, not a general HTTP parser: whatever it does not recognize exactly — another method, path
// or version, a header it does not treat (Transfer-Encoding, Upgrade, Expect, Origin, Connection
// other than keep-alive), a repeated header, a character a header may not hold, an obsolete line
// fold — makes it answer `null`, and the connection goes to Node's HTTP parser (llhttp), which
// answers it as before. So the lane never accepts what Node would refuse, and never reads a body
// length Node would read differently (request smuggling needs two parsers disagreeing on one).

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
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Whether a header value holds a control character other than horizontal tab, or DEL. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true
  }
  return false
}
const DIGITS = /^[0-9]{1,15}$/
/** Headers whose meaning the lane does not implement: their requests go to Node and Fastify. */
const NOT_HERE = new Set(['transfer-encoding', 'upgrade', 'expect', 'origin', 'http2-settings', 'te', 'trailer'])

/** Scans the head at the start of `buf` (see the file's comment). */
export function scanPlainPost(buf: Buffer): HeadScan {
  const limit = Math.min(buf.length, MAX_HEAD_BYTES)
  // The request line first: anything else is not for the lane, however much has arrived.
  const lineLength = Math.min(limit, REQUEST_LINE.length)
  if (buf.toString('latin1', 0, lineLength) !== REQUEST_LINE.slice(0, lineLength)) return null
  const end = buf.indexOf('\r\n\r\n', REQUEST_LINE.length - 2, 'latin1')
  if (end < 0 || end + 4 > MAX_HEAD_BYTES) return limit < MAX_HEAD_BYTES ? 'incomplete' : null
  const headers: Record<string, string> = {}
  const text = buf.toString('latin1', REQUEST_LINE.length, end)
  if (text.length > 0) {
    for (const line of text.split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon <= 0) return null
      const name = line.slice(0, colon)
      if (!TOKEN.test(name)) return null
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')
      if (hasControl(value)) return null
      const key = name.toLowerCase()
      if (key in headers || NOT_HERE.has(key)) return null
      headers[key] = value
    }
  }
  const length = headers['content-length']
  if (length === undefined || !DIGITS.test(length)) return null
  const connection = headers.connection
  if (connection !== undefined && connection.toLowerCase() !== 'keep-alive') return null
  return { headers, headLength: end + 4, bodyLength: Number(length) }
}
