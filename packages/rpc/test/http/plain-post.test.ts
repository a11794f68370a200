import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_HEAD_BYTES, MAX_HEADERS, scanPlainPost } from '../../src/fast/plain-post.ts'

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/)
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/)
/** Headers a plain POST may carry besides Host and Content-Length (none the lane refuses). */
const extra = fc
  .dictionary(token, value, { maxKeys: 6 })
  .map((d) =>
    Object.fromEntries(
      Object.entries(d).filter(
        ([k]) =>
          ![
            'host',
            'content-length',
            'connection',
            'transfer-encoding',
            'upgrade',
            'expect',
            'origin',
            'http2-settings',
            'te',
            'trailer',
            'proxy-connection',
          ].includes(k),
      ),
    ),
  )

function head(headers: [string, string][], line = 'POST / HTTP/1.1'): Buffer {
  return Buffer.from(`${line}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1')
}

describe('scanPlainPost (the fast lane’s filter)', () => {
  it('reads a plain POST’s headers, lower-cased and trimmed, and its body length', () => {
    fc.assert(
      fc.property(extra, fc.nat({ max: 1_000_000 }), fc.boolean(), (headers, length, upper) => {
        const lines: [string, string][] = Object.entries(headers).map(([k, v]) => [
          upper ? k.toUpperCase() : k,
          ` ${v} `,
        ])
        lines.push(['Content-Length', String(length)], ['Host', 'localhost'])
        const buf = head(lines)
        const scan = scanPlainPost(Buffer.concat([buf, Buffer.from('{"body":1}')]))
        expect(scan).toEqual({
          headers: { ...headers, 'content-length': String(length), host: 'localhost' },
          headLength: buf.length,
          bodyLength: length,
        })
        // Any prefix of the head is incomplete, never a wrong answer.
        for (const cut of [1, 5, 16, buf.length - 1]) expect(scanPlainPost(buf.subarray(0, cut))).toBe('incomplete')
      }),
    )
  })

  it('leaves to Node whatever it does not treat exactly', () => {
    const ok: [string, string][] = [
      ['Host', 'localhost'],
      ['Content-Length', '2'],
    ]
    expect(scanPlainPost(head(ok))).not.toBeNull()
    const cases: [string, Buffer][] = [
      ['GET', head(ok, 'GET / HTTP/1.1')],
      ['another path', head(ok, 'POST /x HTTP/1.1')],
      ['HTTP/1.0', head(ok, 'POST / HTTP/1.0')],
      ['lower-case method', head(ok, 'post / HTTP/1.1')],
      ['no Content-Length', head([['Host', 'a']])],
      ['no Host (Node answers 400)', head([['Content-Length', '2']])],
      ['chunked', head([...ok, ['Transfer-Encoding', 'chunked']])],
      ['two Content-Lengths', head([...ok, ['content-length', '2']])],
      ['a signed length', head([['Content-Length', '+2']])],
      ['a length in hex', head([['Content-Length', '0x2']])],
      ['an upgrade', head([...ok, ['Upgrade', 'websocket']])],
      ['Expect', head([...ok, ['Expect', '100-continue']])],
      ['a CORS request', head([...ok, ['Origin', 'https://a.example']])],
      ['Connection: close', head([...ok, ['Connection', 'close']])],
      ['a space before the colon', head([...ok, ['X-A ', 'b']])],
      ['an empty name', head([...ok, ['', 'b']])],
      ['a control character', head([...ok, ['X-A', 'b\x01c']])],
      ['a bare LF', head([...ok, ['X-A', 'b\nc']])],
      ['a bare CR', head([...ok, ['X-A', 'b\rc']])],
      ['a NUL', head([...ok, ['X-A', 'b\x00']])],
      ['an obsolete line fold', Buffer.from('POST / HTTP/1.1\r\nHost: a\r\n b\r\nContent-Length: 2\r\n\r\n')],
      ['a line without a colon', Buffer.from('POST / HTTP/1.1\r\nHost a\r\nContent-Length: 2\r\n\r\n')],
    ]
    for (const [what, buf] of cases) expect(scanPlainPost(buf), what).toBeNull()
  })

  // llhttp reads a Content-Length value as OWS, digits, then spaces only: a tab after the digits is
  // a 400 there ("Invalid character in Content-Length"), so the lane must not read it as a length.
  it('reads Content-Length as llhttp does: tabs before the digits, only spaces after', () => {
    const at = (value: string) =>
      scanPlainPost(
        head([
          ['Host', 'a'],
          ['Content-Length', value],
        ]),
      )
    for (const ok of ['2', '002', '\t2', ' \t 2', '2 ', '2   '])
      expect(at(ok), JSON.stringify(ok)).toMatchObject({ bodyLength: 2 })
    for (const bad of ['2\t', '2 \t', '\t2\t', '2\t ', '2 2', '2,2', '2, 2', '+2', '-2', '', ' ', '1234567890123456'])
      expect(at(bad), JSON.stringify(bad)).toBeNull()
  })

  // llhttp treats Proxy-Connection as Connection (`close` ends the connection there).
  it('leaves Proxy-Connection to Node', () => {
    for (const value of ['close', 'keep-alive'])
      expect(
        scanPlainPost(
          head([
            ['Host', 'a'],
            ['Content-Length', '0'],
            ['Proxy-Connection', value],
          ]),
        ),
      ).toBeNull()
  })

  // Node keeps the first 1,000 header lines of a request (maxHeaderPairs): a Host or Content-Type
  // after them is not seen there (400, 415). The lane takes far fewer, and gives the rest to Node.
  it('leaves a request with many header lines to Node', () => {
    const pad = (n: number): [string, string][] => Array.from({ length: n }, (_, i) => [`x-${i}`, ''])
    const ok: [string, string][] = [
      ['Content-Length', '0'],
      ['Host', 'a'],
    ]
    expect(scanPlainPost(head([...pad(MAX_HEADERS - 2), ...ok]))).not.toBeNull()
    expect(scanPlainPost(head([...pad(MAX_HEADERS - 1), ...ok]))).toBeNull()
    expect(scanPlainPost(head([...pad(1000), ...ok]))).toBeNull()
  })

  // The head's names become keys of a plain object: one that is already a key of every object is
  // not a header the lane has seen twice, but is not one it needs either.
  it('leaves header names that are Object.prototype keys to Node', () => {
    for (const name of ['__proto__', 'constructor'])
      expect(
        scanPlainPost(
          head([
            ['Host', 'a'],
            ['Content-Length', '0'],
            [name, 'x'],
          ]),
        ),
      ).toBeNull()
  })

  // llhttp refuses these as soon as they arrive (400): the lane does not wait for the head's end.
  it('leaves to Node at once a head still arriving with a bare LF or CR, or a control character', () => {
    const start = 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n'
    for (const ok of ['', '\r', 'X-A: b', 'X-A: b\r', 'X-A: b\t\xe9\r\n'])
      expect(scanPlainPost(Buffer.from(start + ok, 'latin1')), JSON.stringify(ok)).toBe('incomplete')
    for (const bad of [
      '\n',
      'X-A: b\r\n\n',
      'X-A: b\n',
      'X-A: b\r\r',
      'X-A: b\rc',
      'X-A: \0',
      'X-A: \x7f',
      'X-A: \x1b',
    ])
      expect(scanPlainPost(Buffer.from(start + bad, 'latin1')), JSON.stringify(bad)).toBeNull()
    expect(scanPlainPost(Buffer.from('POST / HTTP/1.1\r\n\n'))).toBeNull()
  })

  it('takes `Connection: keep-alive` in any case', () => {
    expect(
      scanPlainPost(
        head([
          ['Host', 'a'],
          ['Content-Length', '0'],
          ['Connection', 'Keep-Alive'],
        ]),
      ),
    ).not.toBeNull()
  })

  it('gives a head past Node’s header size to Node (431 there), and never waits for more', () => {
    const big = head([
      ['Host', 'a'],
      ['Content-Length', '0'],
      ['X-Pad', 'a'.repeat(MAX_HEAD_BYTES)],
    ])
    expect(scanPlainPost(big)).toBeNull()
    expect(scanPlainPost(big.subarray(0, MAX_HEAD_BYTES + 10))).toBeNull()
    expect(scanPlainPost(big.subarray(0, 1000))).toBe('incomplete')
  })

  it('gives a head past a smaller maxHeaderSize to Node', () => {
    const buf = head([
      ['Host', 'a'],
      ['Content-Length', '0'],
      ['X-Pad', 'a'.repeat(1000)],
    ])
    expect(scanPlainPost(buf, buf.length)).not.toBeNull()
    expect(scanPlainPost(buf, buf.length - 1)).toBeNull()
    expect(scanPlainPost(buf.subarray(0, 1030), 1024)).toBeNull()
    expect(scanPlainPost(buf.subarray(0, 1000), 1024)).toBe('incomplete')
    // Never more than the lane's own cap.
    const big = head([
      ['Host', 'a'],
      ['Content-Length', '0'],
      ['X-Pad', 'a'.repeat(MAX_HEAD_BYTES)],
    ])
    expect(scanPlainPost(big, 10 * MAX_HEAD_BYTES)).toBeNull()
  })

  // The lane scans a head again as its bytes arrive, telling the scan how much it has seen: the
  // answer must be the one a scan of the whole prefix gives, at every step.
  it('scans a head arriving in pieces as it scans it whole', () => {
    const piece = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('Host: a', 'Content-Length: 2', 'X-A: b', 'X-B:\tc d', '\r\n', ':') },
      { weight: 2, arbitrary: fc.constantFrom('\r', '\n', '\r\n\r\n', '\0', ' ', '\t', '\x7f', '\xe9') },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), (pieces, cuts) => {
        const full = Buffer.from(`POST / HTTP/1.1\r\n${pieces.join('')}`, 'latin1')
        const at = [...new Set(cuts.map((c) => c % (full.length + 1)))].sort((x, y) => x - y)
        let scanned = 0
        for (const end of [...at, full.length]) {
          const prefix = full.subarray(0, end)
          const step = scanPlainPost(prefix, MAX_HEAD_BYTES, scanned)
          expect(step, JSON.stringify(prefix.toString('latin1'))).toEqual(scanPlainPost(prefix))
          if (step !== 'incomplete') break
          scanned = prefix.length
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('answers null for any bytes that do not start as a plain POST', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const buf = Buffer.from(bytes)
        fc.pre(!'POST / HTTP/1.1\r\n'.startsWith(buf.toString('latin1', 0, 17)))
        expect(scanPlainPost(buf)).toBeNull()
      }),
    )
  })
})
