// Every method in Anvil's method table is either served or listed, with why, among the remaining
// ones in docs/api/json-rpc.md; nothing served is listed there; the count the doc gives is true.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ALL_METHODS } from '../src/index.ts'

const root = new URL('../../../', import.meta.url)
const anvil = readFileSync(new URL('packages/rpc/test/fixtures/anvil-methods.txt', root), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
const doc = readFileSync(new URL('docs/api/json-rpc.md', root), 'utf8')
const section = /<!-- anvil-remaining: start -->([\s\S]*)<!-- anvil-remaining: end -->/.exec(doc)?.[1] ?? ''
/** The names in the first column of the section's table (the second says why). */
const remaining = new Set<string>(
  section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([a-z]+_[A-Za-z0-9_]+)`/g)].map((m) => m[1] as string)),
)
const served = new Set(ALL_METHODS.map((m) => m.name))

describe("Anvil's method table", () => {
  it('each method is served or listed as remaining in docs/api/json-rpc.md', () => {
    expect(anvil.length).toBeGreaterThan(200)
    expect(anvil.filter((m) => !served.has(m) && !remaining.has(m))).toEqual([])
  })

  it('nothing listed as remaining is served', () => {
    expect([...remaining].filter((m) => served.has(m))).toEqual([])
  })

  it('the doc says how many are served', () => {
    const count = anvil.filter((m) => served.has(m)).length
    expect(doc).toContain(`(${anvil.length}, with its aliases); Cairn serves ${count} of them`)
  })
})
