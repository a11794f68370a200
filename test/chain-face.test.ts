// Other packages hold the chain by its faces (ChainReader, StateReader, BlockVerifier,
// BlockCommitter, DevChain, EngineData), never by its parts: the store, executor, importer, front
// door and state database are private to @cairn/chain (packages/chain/src/chain-parts.ts). The
// type checker refuses `chain.store` and friends; this test also refuses the ways around it: a deep
// import of a chain source file, an internal class exported again from the index, and a reach-in
// written through a cast.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as chainFace from '../packages/chain/src/index.ts'
import { MemoryKV } from '../packages/db/src/index.ts'
import { silentLogger } from '../packages/utils/src/index.ts'
import { tsFiles } from './ts-files.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Every TypeScript file outside the chain package (sources, tests, benches, test/, conformance/). */
function outside(): string[] {
  const files = [...tsFiles(join(ROOT, 'test')), ...tsFiles(join(ROOT, 'conformance'))].filter(
    (f) => !f.endsWith('chain-face.test.ts'),
  )
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    if (pkg === 'chain' || !statSync(join(ROOT, 'packages', pkg)).isDirectory()) continue
    files.push(...tsFiles(join(ROOT, 'packages', pkg)))
  }
  return files
}

const RELATIVE = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g
const DEEP = /(?:from|import)\s*\(?\s*['"]@cairn\/chain\/[^'"]*['"]/g
/** A chain's part reached by name, whatever cast came before: `chain.store`, `(chain as any).importer`. */
const REACH_IN = /\bchain\b\)?\??\.(store|executor|importer|stateDB|editedStates|blocks)\b/g

describe('the chain has a face', () => {
  it('no file outside @cairn/chain imports a chain source file but its index', () => {
    const violations: string[] = []
    for (const file of outside()) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(RELATIVE)) {
        const target = relative(ROOT, normalize(join(dirname(file), m[1] as string)))
        if (target.startsWith('packages/chain/src/') && target !== 'packages/chain/src/index.ts') {
          violations.push(`${relative(ROOT, file)} imports ${m[1]}`)
        }
      }
      for (const m of text.matchAll(DEEP)) violations.push(`${relative(ROOT, file)}: ${m[0]}`)
    }
    expect(violations).toEqual([])
  })

  it("no file outside @cairn/chain names a chain's parts", () => {
    const violations: string[] = []
    for (const file of outside()) {
      const lines = readFileSync(file, 'utf8').split('\n')
      lines.forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return
        for (const m of line.matchAll(REACH_IN)) violations.push(`${relative(ROOT, file)}:${i + 1}: ${m[0]}`)
      })
    }
    expect(violations).toEqual([])
  })

  it('the index exports none of the parts', () => {
    const parts = [
      'ChainStore',
      'Executor',
      'BlockImporter',
      'BlockProcessor',
      'StateDB',
      'StateLayer',
      'EditedStates',
      'SenderOverrides',
      'chainParts',
      'setChainParts',
      'editHeadState',
      'restoreHeadState',
      'rewindChain',
      'replaceBranch',
      'repairHead',
    ]
    expect(parts.filter((name) => name in chainFace)).toEqual([])
  })

  it('a chain has no public property holding a part', async () => {
    const kv = new MemoryKV()
    await kv.open()
    const engine: chainFace.ChainEngine = {
      name: 'test',
      validateHeader: async () => {},
      preferHead: async (c, cur) => c.number > cur.number,
      safeNumber: (h) => h.number,
      finalizedNumber: () => 0n,
    }
    const chain = await chainFace.Chain.open(
      { genesis: chainFace.devGenesis({ accounts: [] }) },
      { kv, engine, logger: silentLogger, metrics: null },
    )
    const reachable = new Set<string>()
    for (let o: object | null = chain; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Object.getOwnPropertyNames(o)) reachable.add(key)
    }
    for (const part of ['store', 'executor', 'importer', 'stateDB', 'editedStates', 'blocks']) {
      expect(reachable.has(part), part).toBe(false)
    }
    expect(chain.head.header.number).toBe(0n)
  })
})
