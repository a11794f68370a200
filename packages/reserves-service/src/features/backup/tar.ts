// A minimal POSIX ustar writer and reader for backup archives: regular files and directories only,
// names up to 255 bytes (prefix + name), sizes below 8 GiB. Each header's checksum is verified on
// read, so a damaged header is refused rather than misread.
import { invalidArchive } from './errors.ts'

/** One entry: a directory (no data) or a regular file. */
export interface TarEntry {
  path: string
  dir: boolean
  data: Uint8Array
  mode: number
}

const BLOCK = 512

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`
}

function splitName(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path }
  const cut = path.lastIndexOf('/', 155)
  const name = path.slice(cut + 1)
  if (cut <= 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(path.slice(0, cut)) > 155)
    throw new RangeError(`path too long for ustar: ${path}`)
  return { prefix: path.slice(0, cut), name }
}

/** The 512-byte ustar header of an entry. `mtime` in seconds. */
export function tarHeader(e: TarEntry, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK)
  const { prefix, name } = splitName(e.dir && !e.path.endsWith('/') ? `${e.path}/` : e.path)
  h.write(name, 0, 100)
  h.write(octal(e.mode & 0o7777, 8), 100)
  h.write(octal(0, 8), 108)
  h.write(octal(0, 8), 116)
  h.write(octal(e.dir ? 0 : e.data.byteLength, 12), 124)
  h.write(octal(mtime, 12), 136)
  h.write('        ', 148) // checksum field counts as spaces
  h.write(e.dir ? '5' : '0', 156)
  h.write('ustar\0', 257)
  h.write('00', 263)
  h.write(prefix, 345, 155)
  let sum = 0
  for (const b of h) sum += b
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  return h
}

/** An entry as the parts of a ustar archive: header, data, zero padding to the block. */
export function tarParts(e: TarEntry, mtime: number): Buffer[] {
  const parts = [tarHeader(e, mtime)]
  if (!e.dir && e.data.byteLength > 0) {
    parts.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength))
    const pad = (BLOCK - (e.data.byteLength % BLOCK)) % BLOCK
    if (pad) parts.push(Buffer.alloc(pad))
  }
  return parts
}

/** The end of a ustar archive: two zero blocks. */
export const TAR_END = Buffer.alloc(BLOCK * 2)

/** The entries as a ustar archive. `mtime` in seconds. */
export function writeTar(entries: readonly TarEntry[], mtime: number): Buffer {
  return Buffer.concat([...entries.flatMap((e) => tarParts(e, mtime)), TAR_END])
}

const text = (b: Buffer, at: number, len: number) => {
  const s = b.subarray(at, at + len)
  const end = s.indexOf(0)
  return s.subarray(0, end < 0 ? len : end).toString('utf8')
}

/** Reads a ustar archive written by {@link writeTar}; a bad header checksum or a truncated entry is refused. */
export function readTar(buf: Uint8Array, what: string): TarEntry[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const out: TarEntry[] = []
  let at = 0
  for (;;) {
    if (at + BLOCK > b.length) throw invalidArchive(`${what} is truncated (no end-of-archive marker)`)
    const h = b.subarray(at, at + BLOCK)
    if (h.every((x) => x === 0)) return out
    let sum = 0
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number)
    if (Number.parseInt(text(h, 148, 8).trim(), 8) !== sum || text(h, 257, 6) !== 'ustar')
      throw invalidArchive(`${what} is damaged: the tar header at byte ${at} does not check`)
    const name = text(h, 0, 100)
    const prefix = text(h, 345, 155)
    const size = Number.parseInt(text(h, 124, 12).trim() || '0', 8)
    const type = text(h, 156, 1)
    const mode = Number.parseInt(text(h, 100, 8).trim() || '644', 8)
    const path = (prefix ? `${prefix}/${name}` : name).replace(/\/$/, '')
    at += BLOCK
    if (type !== '0' && type !== '' && type !== '5')
      throw invalidArchive(`${what} holds ${path} of tar type ${JSON.stringify(type)}: only files and directories`)
    if (at + size > b.length) throw invalidArchive(`${what} is truncated inside ${path}`)
    out.push({ path, dir: type === '5', mode, data: new Uint8Array(b.subarray(at, at + size)) })
    at += Math.ceil(size / BLOCK) * BLOCK
  }
}
