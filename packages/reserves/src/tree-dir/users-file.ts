import { closeSync, openSync, writeSync } from 'node:fs'
import { PAGE_BITS, type UserColumns } from '../tree/columns.ts'
import { U128_BYTES } from '../verifier/u128.ts'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const HEX_HI = new Uint8Array(HEX.map((h) => h.charCodeAt(0)))
const HEX_LO = new Uint8Array(HEX.map((h) => h.charCodeAt(1)))
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0))
const P_ID = ascii('{"userId":')
const P_SALT = ascii(',"salt":"0x')
const P_LEAF = ascii('","leafIndex":')
const P_BAL = ascii(',"balances":["')
const P_SEP = ascii('","')
const P_END = ascii('"]}\n')
const FLUSH = 1 << 22

function put(buf: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[at + i] = bytes[i] as number
  return at + bytes.length
}

/** The decimal digits of `v` (an integer below 2^53) at `at`; returns the end. */
function digits(buf: Uint8Array, at: number, v: number): number {
  if (v < 10) {
    buf[at] = 0x30 + v
    return at + 1
  }
  let n = 0
  for (let x = v; x >= 1; x = Math.floor(x / 10)) n++
  let x = v
  for (let i = n - 1; i >= 0; i--) {
    buf[at + i] = 0x30 + (x % 10)
    x = Math.floor(x / 10)
  }
  return at + n
}

/** A u128 slot as decimal digits at `at`; returns the end. */
function u128(buf: Buffer, at: number, v: DataView, o: number): number {
  const a = v.getUint32(o)
  const b = v.getUint32(o + 4)
  const c = v.getUint32(o + 8)
  const d = v.getUint32(o + 12)
  if (a === 0 && b === 0 && c < 0x200000) return digits(buf, at, c * 2 ** 32 + d)
  const text = ((BigInt(a) << 96n) | (BigInt(b) << 64n) | (BigInt(c) << 32n) | BigInt(d)).toString()
  return at + buf.write(text, at, 'latin1')
}

/**
 * Writes users.ndjson (SECRET: mode 0600) in input order, byte for byte what `writeTreeDir`
 * writes (`JSON.stringify({userId, salt, leafIndex, balances})` per line), but assembled as bytes
 * in one buffer: no string per field, no re-encoding. ASCII ids that need no JSON escape are
 * copied as they are; any other id goes through `JSON.stringify`.
 */
export class UsersFileWriter {
  private buf = Buffer.alloc(FLUSH + (1 << 16))
  private at = 0
  private readonly fd: number

  constructor(path: string) {
    this.fd = openSync(path, 'w', 0o600)
  }

  /** Writes every user of `cols`; `leafOf[u]` is user u's leaf, `random` holds its salt at leaf·32. */
  writeAll(cols: UserColumns, leafOf: Uint32Array, random: Uint8Array): void {
    if (cols.count === 0) this.buf[this.at++] = 0x0a
    const k = cols.currencies
    for (let p = 0; p < cols.pages.length; p++) {
      const page = cols.pages[p]!
      const ids = page.ids
      const idEnds = page.idEnds
      const bal = new DataView(page.balances.buffer, page.balances.byteOffset, page.balances.byteLength)
      let buf = this.buf
      let at = this.at
      for (let i = 0; i < page.count; i++) {
        if (at > FLUSH) {
          this.at = at
          this.flush()
          at = 0
          buf = this.buf
        }
        const s = i === 0 ? 0 : (idEnds[i - 1] as number)
        const e = idEnds[i] as number
        at = put(buf, at, P_ID)
        let plain = true
        for (let j = s; j < e; j++) {
          const b = ids[j] as number
          if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) {
            plain = false
            break
          }
        }
        if (plain) {
          buf[at++] = 0x22
          for (let j = s; j < e; j++) buf[at++] = ids[j] as number
          buf[at++] = 0x22
        } else {
          const id = Buffer.from(ids.buffer, ids.byteOffset + s, e - s).toString('utf8')
          at += buf.write(JSON.stringify(id), at, 'utf8')
        }
        const leaf = leafOf[(p << PAGE_BITS) | i] as number
        at = put(buf, at, P_SALT)
        for (let j = leaf * 32; j < leaf * 32 + 32; j++) {
          const b = random[j] as number
          buf[at++] = HEX_HI[b] as number
          buf[at++] = HEX_LO[b] as number
        }
        at = put(buf, at, P_LEAF)
        at = digits(buf, at, leaf)
        at = put(buf, at, P_BAL)
        for (let c = 0; c < k; c++) {
          if (c > 0) at = put(buf, at, P_SEP)
          at = u128(buf, at, bal, (i * k + c) * U128_BYTES)
        }
        at = put(buf, at, P_END)
      }
      this.at = at
    }
  }

  private flush(): void {
    let done = 0
    while (done < this.at) done += writeSync(this.fd, this.buf, done, this.at - done)
    this.at = 0
  }

  close(): void {
    try {
      this.flush()
    } finally {
      closeSync(this.fd)
    }
  }
}
