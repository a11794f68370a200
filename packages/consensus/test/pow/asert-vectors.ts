// Reads the aserti3-2d test vectors (fixtures/aserti3-2d, see its README): one run per file, its
// anchor from the `##` header lines, then `iteration height time target` lines.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AsertAnchor } from '../../src/pow/asert.ts'

export const VECTORS_DIR = join(import.meta.dirname, 'fixtures/aserti3-2d')

export interface AsertVector {
  iteration: number
  height: bigint
  time: bigint
  bits: number
}

export interface AsertRun {
  file: string
  description: string
  anchor: AsertAnchor
  startHeight: bigint
  startTime: bigint
  iterations: number
  vectors: AsertVector[]
}

/** The run files, checked against SHA256SUMS (a damaged fixture fails here, not as a wrong target). */
export function readRuns(): AsertRun[] {
  const sums = new Map(
    readFileSync(join(VECTORS_DIR, 'SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [sum, file] = l.split(/\s+/)
        return [file as string, sum as string]
      }),
  )
  const files = readdirSync(VECTORS_DIR)
    .filter((f) => /^run\d\d$/.test(f))
    .sort()
  return files.map((file) => {
    const text = readFileSync(join(VECTORS_DIR, file))
    const sum = createHash('sha256').update(text).digest('hex')
    if (sum !== sums.get(file)) throw new Error(`${file}: sha256 ${sum}, SHA256SUMS says ${sums.get(file)}`)
    return parseRun(file, text.toString('utf8'))
  })
}

function parseRun(file: string, text: string): AsertRun {
  const header = new Map<string, string>()
  const vectors: AsertVector[] = []
  for (const line of text.split('\n')) {
    const h = /^##\s+([^:]+):\s*(.*?)\s*$/.exec(line)
    if (h) {
      header.set((h[1] as string).trim(), h[2] as string)
      continue
    }
    if (line.startsWith('#') || line.trim() === '') continue
    const [iteration, height, time, bits] = line.trim().split(/\s+/)
    if (bits === undefined || !/^0x[0-9a-f]{8}$/.test(bits)) throw new Error(`${file}: unreadable line ${line}`)
    vectors.push({ iteration: Number(iteration), height: BigInt(height!), time: BigInt(time!), bits: Number(bits) })
  }
  const get = (key: string): string => {
    const v = header.get(key)
    if (v === undefined) throw new Error(`${file}: no "## ${key}:" line`)
    return v
  }
  return {
    file,
    description: get('description'),
    anchor: {
      height: BigInt(get('anchor height')),
      parentTime: BigInt(get('anchor parent time')),
      bits: Number(get('anchor nBits')),
    },
    startHeight: BigInt(get('start height')),
    startTime: BigInt(get('start time')),
    iterations: Number(get('iterations')),
    vectors,
  }
}
