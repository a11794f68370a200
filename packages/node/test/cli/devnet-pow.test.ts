// `cairn devnet init --engine pow`: a proof-of-work genesis the chain and the engine accept, and
// one mining config per node; the engine is taken from that genesis, and another one refused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseGenesis } from '@cairn/chain'
import { parsePowConfig, targetFromBits, workOf } from '@cairn/consensus/pow'
import { afterAll, describe, expect, it } from 'vitest'
import { initPowDevnet } from '../../src/cli/devnet-pow.ts'
import { engineKind } from '../../src/engine.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-pow-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('cairn devnet init --engine pow', () => {
  it('writes a proof-of-work genesis and a mining config per node, each with its own coinbase', () => {
    const files = initPowDevnet({
      miners: 3,
      dir,
      basePort: 18545,
      p2pBasePort: 38303,
      threads: 2,
      pow: { spacing: 2, memoryKiB: 256 },
      timestamp: 1_700_000_000,
    })
    expect(files).toHaveLength(3)
    const genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'))
    const params = parsePowConfig(genesis)
    expect(params.asert.spacing).toBe(2n)
    expect(params.asert.halfLife).toBe(576n)
    expect(params.seal).toEqual({ memoryKiB: 256, iterations: 1 })
    expect(BigInt(genesis.difficulty)).toBe(workOf(targetFromBits(params.genesisBits)))
    // The chain takes it: London at block 0 and no merge (a proof-of-work ruleset).
    const spec = parseGenesis(genesis)
    expect(spec.hardfork).toBe('grayGlacier')
    expect(engineKind(undefined, genesis)).toBe('pow')
    expect(() => engineKind('dev', genesis)).toThrow(/proof-of-work chain/)
    expect(() => engineKind('pow', { config: { chainId: 1 } })).toThrow(/no config.cairn.pow/)
    const coinbases = files.map((f) => {
      const toml = readFileSync(f, 'utf8')
      expect(toml).toContain('engine = "pow"')
      expect(toml).toContain('threads = 2')
      return /coinbase = "(0x[0-9a-fA-F]{40})"/.exec(toml)?.[1]
    })
    expect(new Set(coinbases).size).toBe(3)
  })
})
