// The committed artifacts are what the committed sources compile to (run scripts/compile.ts after
// editing a .sol file), and the exported artifact is the committed one.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { artifactText, compileContract } from '../src/compile.ts'
import { arbExecutor, reservesRegistry } from '../src/index.ts'

describe('contract artifacts', () => {
  it('ReservesRegistry.json is current: recompiling the source gives the committed file byte for byte', () => {
    const committed = readFileSync(new URL('../src/artifacts/ReservesRegistry.json', import.meta.url), 'utf8')
    const fresh = compileContract('ReservesRegistry')
    expect(JSON.parse(committed).bytecode).toBe(fresh.bytecode)
    expect(committed).toBe(artifactText(fresh))
  }, 60_000)

  it('ArbExecutor.json is current', () => {
    const committed = readFileSync(new URL('../src/artifacts/ArbExecutor.json', import.meta.url), 'utf8')
    expect(committed).toBe(artifactText(compileContract('ArbExecutor')))
    const fns = arbExecutor.abi.filter((e) => e.type === 'function').map((e) => e.name)
    expect(fns).toEqual(expect.arrayContaining(['execute', 'uniswapV2Call', 'withdraw', 'owner', 'transferOwnership']))
    expect(arbExecutor.compiler).toMatchObject({ version: '0.8.30', evmVersion: 'paris' })
  }, 60_000)

  it('exports the ABI and bytecode of the registry', () => {
    const fns = reservesRegistry.abi.filter((e) => e.type === 'function').map((e) => e.name)
    expect(fns).toEqual(
      expect.arrayContaining(['anchor', 'getSnapshot', 'isAnchored', 'setPublisher', 'transferOwnership', 'owner']),
    )
    const events = reservesRegistry.abi.filter((e) => e.type === 'event').map((e) => e.name)
    expect(events).toEqual(expect.arrayContaining(['SnapshotAnchored', 'PublisherSet', 'OwnershipTransferred']))
    expect(reservesRegistry.bytecode).toMatch(/^0x(?:[0-9a-f]{2})+$/)
    // evmVersion paris: no PUSH0/MCOPY, so it deploys on chains that have not taken Shanghai/Cancun
    expect(reservesRegistry.compiler).toMatchObject({ version: '0.8.30', evmVersion: 'paris' })
  })

  it('a missing source is reported, not swallowed', () => {
    expect(() => compileContract('DoesNotExist')).toThrow(/ENOENT|no such file/)
  })
})
