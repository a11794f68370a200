// `cairn devnet init --engine pow`: a proof-of-work genesis the chain and the engine accept, and
// one mining config per node; the engine is taken from that genesis, and another one refused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseGenesis } from '@cairn/chain'
import { parsePowConfig, targetFromBits, workOf } from '@cairn/consensus/pow'
import { loadOrCreateKey } from '@cairn/consensus/validator-keys'
import { privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
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

  it('--transition-height: every node a validator of the genesis set, the merge and the hand-over at H', () => {
    const tdir = join(dir, 'transition')
    initPowDevnet({
      miners: 2,
      dir: tdir,
      basePort: 18555,
      p2pBasePort: 38313,
      timestamp: 1_700_000_000,
      transitionHeight: 6,
    })
    const genesis = JSON.parse(readFileSync(join(tdir, 'genesis.json'), 'utf8'))
    expect(parsePowConfig(genesis).transition).toEqual({ height: 6n, engine: 'bft' })
    expect(genesis.config.mergeForkBlock).toBe(6)
    const keys = [1, 2].map((i) =>
      bytesToHex(
        privateKeyToAddress(loadOrCreateKey(join(tdir, `node-${i}`, 'keys', 'validator.key'), 'k').privateKey),
      ),
    )
    expect(genesis.config.cairn.bft.validators.map((v: { address: string }) => v.address)).toEqual(keys)
    expect(engineKind(undefined, genesis)).toBe('pow')
    // The chain takes it: proof of work below H, the merge (Paris) from H.
    const spec = parseGenesis(genesis)
    expect(spec.hardfork).toBe('grayGlacier')
  })
})
