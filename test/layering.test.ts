// A package's own tests and benches import only that package and the packages it depends on (its
// package.json's @cairn/* dependencies, transitively), by relative path or by name: tests that need
// more (a whole node under an RPC test, the reserves anchor on a chain) live here, in the root
// test/<package>/ directories. Checked by construction rather than by a list someone keeps up to date.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tsFiles } from './ts-files.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((p) => statSync(join(ROOT, 'packages', p)).isDirectory())

function cairnDeps(pkg: string): string[] {
  const json = JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8'))
  const all = { ...json.dependencies, ...json.devDependencies, ...json.peerDependencies }
  return Object.keys(all)
    .filter((d) => d.startsWith('@cairn/'))
    .map((d) => d.slice('@cairn/'.length))
}

/** The package and every package below it. */
function allowed(pkg: string, seen = new Set<string>()): Set<string> {
  if (seen.has(pkg)) return seen
  seen.add(pkg)
  for (const d of cairnDeps(pkg)) allowed(d, seen)
  return seen
}

const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g
const NAMED = /(?:from|import)\s*\(?\s*['"]@cairn\/([a-z-]+)(?:\/[^'"]*)?['"]/g

describe('test layering', () => {
  it.each(['test', 'bench'])('no package %s imports a package above it, or the root test/ directory', (kind) => {
    const violations: string[] = []
    for (const pkg of PACKAGES) {
      const dir = join(ROOT, 'packages', pkg, kind)
      let files: string[]
      try {
        files = tsFiles(dir)
      } catch {
        continue
      }
      const ok = allowed(pkg)
      for (const file of files) {
        for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
          const target = relative(ROOT, normalize(join(dirname(file), m[1] as string))).split(/[\\/]/)
          const bad =
            target[0] === 'test' || (target[0] === 'packages' && target[1] !== undefined && !ok.has(target[1]))
          if (bad) violations.push(`${relative(ROOT, file)} imports ${m[1]} (move it to test/${pkg}/)`)
        }
        for (const m of readFileSync(file, 'utf8').matchAll(NAMED)) {
          if (!ok.has(m[1] as string))
            violations.push(`${relative(ROOT, file)} imports @cairn/${m[1]} (move it to test/${pkg}/)`)
        }
      }
    }
    expect(violations).toEqual([])
  })
})

/** The entry point of @cairn/consensus that is about signing (`privval/`; `remote-signer` its old name). */
const SIGNING_ENTRIES = /['"]@cairn\/consensus\/(remote-signer|privval)['"]/
/** The signer names the root entry of @cairn/consensus also gives (for the engine's callers). */
const SIGNING_NAMES = new Set([
  'ConsensusSigner',
  'ValidatorSigner',
  'SignerState',
  'FileSignerState',
  'MemorySignerState',
  'checkSign',
])
const ROOT_IMPORT = /import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+['"]@cairn\/consensus['"]/g

/** The signer names `text` imports from @cairn/consensus's root entry. */
function signingNamesImported(text: string): string[] {
  const names: string[] = []
  for (const m of text.matchAll(ROOT_IMPORT))
    for (const part of (m[1] as string).split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)[0] as string
      if (SIGNING_NAMES.has(name)) names.push(name)
    }
  return names
}
/** The packages that may sign consensus messages: consensus itself, and the node that runs it. */
const VALIDATOR_SIDE = new Set(['consensus', 'node'])

describe('source layering', () => {
  it('no package source imports a @cairn package it does not depend on (dependencies point down)', () => {
    const violations: string[] = []
    for (const pkg of PACKAGES) {
      let files: string[]
      try {
        files = tsFiles(join(ROOT, 'packages', pkg, 'src'))
      } catch {
        continue
      }
      const ok = allowed(pkg)
      for (const file of files)
        for (const m of readFileSync(file, 'utf8').matchAll(NAMED))
          if (!ok.has(m[1] as string))
            violations.push(`${relative(ROOT, file)} imports @cairn/${m[1]}, which ${pkg}'s package.json does not list`)
    }
    expect(violations).toEqual([])
  })

  it('outside consensus and node, nothing reaches @cairn/consensus to sign: the remote signer client is @cairn/keys', () => {
    const violations: string[] = []
    for (const pkg of PACKAGES) {
      if (VALIDATOR_SIDE.has(pkg)) continue
      for (const kind of ['src', 'test', 'bench']) {
        let files: string[]
        try {
          files = tsFiles(join(ROOT, 'packages', pkg, kind))
        } catch {
          continue
        }
        for (const file of files) {
          const text = readFileSync(file, 'utf8')
          if (SIGNING_ENTRIES.test(text))
            violations.push(
              `${relative(ROOT, file)} imports the consensus signer (use @cairn/keys: openRemoteTxAccount)`,
            )
          for (const name of signingNamesImported(text))
            violations.push(
              `${relative(ROOT, file)} imports ${name} from @cairn/consensus (a signer: consensus/node only)`,
            )
        }
      }
    }
    // The products and the keys themselves do not depend on consensus at all.
    for (const pkg of ['keys', 'reserves', 'reserves-service', 'arbitrage'])
      if (cairnDeps(pkg).includes('consensus'))
        violations.push(`packages/${pkg}/package.json depends on @cairn/consensus`)
    expect(violations).toEqual([])
  })
})

/**
 * The reserves split: @cairn/reserves is the library (tree, input, verifier, anchor, proof format)
 * and never reaches the service; its verifier and webhook-receiver helpers import only their own
 * folder and @noble/hashes (they run in browsers). In @cairn/reserves-service the floors are
 * kernel/ (sql, audit, auth, at-rest, store, events) < jobs/ (snapshot builds) < features/<name>/ <
 * the composition (app.ts, schema.ts, openapi.ts, index.ts) and cli/: nothing imports a floor above
 * its own, and a feature imports no other feature but for `import type` (the console's views).
 */
describe('reserves layering', () => {
  const LIB = join(ROOT, 'packages', 'reserves', 'src')
  const SVC = join(ROOT, 'packages', 'reserves-service', 'src')
  const SPEC = /^\s*(import|export)(\s+type)?\s[^;]*?from\s*['"]([^'"]+)['"]/gms
  const imports = (file: string) =>
    [...readFileSync(file, 'utf8').matchAll(SPEC)].map((m) => ({ typeOnly: Boolean(m[2]), spec: m[3] as string }))
  /** The floor of a file of the service: its top folder, a feature's own name; root files and cli/ are the top. */
  const floorOf = (file: string): { rank: number; name: string } => {
    const [top, sub] = relative(SVC, file).split(/[\\/]/)
    if (top === 'kernel') return { rank: 0, name: 'kernel' }
    if (top === 'jobs') return { rank: 1, name: 'jobs' }
    if (top === 'features') return { rank: 2, name: `features/${sub}` }
    return { rank: 3, name: top === 'cli' ? 'cli' : 'app' }
  }

  it('the library imports nothing of the service; its verifier and webhook helpers stay browser-safe', () => {
    const violations: string[] = []
    for (const file of tsFiles(LIB)) {
      const rel = relative(LIB, file)
      const safe = rel.startsWith('verifier') || /^webhooks[\\/](signature|events|backoff|index)\.ts$/.test(rel)
      for (const { spec } of imports(file)) {
        const target = spec.startsWith('.') ? normalize(join(dirname(file), spec)) : null
        if (spec.startsWith('@cairn/reserves-service') || (target && !target.startsWith(LIB)))
          violations.push(`${relative(ROOT, file)} imports ${spec} (the library does not reach the service)`)
        if (safe && !(spec.startsWith('@noble/hashes') || (target && dirname(target) === dirname(file))))
          violations.push(
            `${relative(ROOT, file)} imports ${spec} (browser-safe: its own folder and @noble/hashes only)`,
          )
      }
    }
    expect(violations).toEqual([])
  })

  it('the service keeps its floors: kernel < jobs < features < app and cli; features import no other feature', () => {
    const violations: string[] = []
    for (const file of tsFiles(SVC)) {
      const from = floorOf(file)
      for (const { typeOnly, spec } of imports(file)) {
        if (!spec.startsWith('.')) continue
        const to = floorOf(normalize(join(dirname(file), spec)))
        const up = to.rank > from.rank || (to.name === 'cli' && from.name !== 'cli')
        const sideways = from.rank === 2 && to.rank === 2 && to.name !== from.name && !typeOnly
        if (up || sideways) violations.push(`${relative(ROOT, file)} (${from.name}) imports ${spec} (${to.name})`)
      }
    }
    expect(violations).toEqual([])
  })
})

/**
 * Floors inside @cairn/chain (src/), bottom to top: shared leaves (errors, metrics, time slices) <
 * state/ (tries, encodings, the state database) < rules/ < store/ < fast/ (speed shims) < the
 * faces the floors above read (ChainReader, StateReader, events, the engine's interface) <
 * execution/ < import/ < the chain's parts < dev/ and fork/ (dev tooling, which plugs into the
 * core through hooks) < the composition (chain.ts, chain-options.ts, faces.ts, index.ts). Nothing imports a floor
 * above its own, no two units import each other, and every file has a floor. The speed shims are
 * reached through one switch: only the speed kit (and the view-call readers) import fast/ at run time.
 */
describe('chain floors', () => {
  const SRC = join(ROOT, 'packages', 'chain', 'src')
  /** Each floor's units: a folder of src/, or a file at its top. */
  const FLOORS = [
    ['errors.ts', 'metrics.ts', 'time-slice.ts'],
    ['state'],
    ['rules'],
    ['store'],
    ['fast'],
    ['chain-reader.ts', 'state-reader.ts', 'events.ts', 'engine.ts', 'engine-data.ts'],
    ['execution'],
    ['import'],
    ['chain-parts.ts', 'chain-tracing.ts'],
    ['dev', 'fork'],
    ['chain.ts', 'chain-options.ts', 'faces.ts', 'index.ts'],
  ]
  /** The files that may import fast/ for more than its types. */
  const FAST_SWITCH = ['execution/speed-kit.ts', 'execution/state-views.ts', 'index.ts']
  const SPEC = /^\s*(import|export)(\s+type)?\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/gms
  const unitOf = (file: string) => relative(SRC, file).split(/[\\/]/)[0] as string
  const floorOf = (unit: string) => FLOORS.findIndex((floor) => floor.includes(unit))
  const edges = tsFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(SPEC)].map((m) => ({
      file,
      spec: m[3] as string,
      typeOnly: Boolean(m[2]),
      target: normalize(join(dirname(file), m[3] as string)),
    })),
  )

  it('every file has a floor, and nothing imports a floor above its own', () => {
    const violations: string[] = []
    for (const file of tsFiles(SRC))
      if (floorOf(unitOf(file)) < 0) violations.push(`${relative(SRC, file)} has no floor (place it in FLOORS)`)
    for (const { file, spec, target } of edges) {
      const from = unitOf(file)
      const to = unitOf(target)
      if (floorOf(to) > floorOf(from))
        violations.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to}): up a floor`)
    }
    expect(violations).toEqual([])
  })

  it('no two units import each other', () => {
    const pairs = new Set<string>()
    for (const { file, target } of edges) {
      const from = unitOf(file)
      const to = unitOf(target)
      if (from !== to) pairs.add(`${from} -> ${to}`)
    }
    const both = [...pairs].filter((p) => {
      const [from, to] = p.split(' -> ') as [string, string]
      return from < to && pairs.has(`${to} -> ${from}`)
    })
    expect(both).toEqual([])
  })

  it('the speed shims are reached through one switch: only the speed kit imports fast/ at run time', () => {
    const violations = edges
      .filter(({ file, typeOnly, target }) => {
        const rel = relative(SRC, file).split(/[\\/]/).join('/')
        return !typeOnly && unitOf(file) !== 'fast' && unitOf(target) === 'fast' && !FAST_SWITCH.includes(rel)
      })
      .map(({ file, spec }) => `${relative(SRC, file)} imports ${spec}`)
    expect(violations).toEqual([])
  })
})
