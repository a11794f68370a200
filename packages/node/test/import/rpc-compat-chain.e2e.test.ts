// The acceptance test of fork schedules: ethereum/execution-apis' test chain (proof-of-work from
// genesis, the merge at its terminal total difficulty, then Shanghai … BPO2 by timestamp) imported
// whole into a real LevelDB through what `cairn init` and `cairn import` run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Chain, readChainFile } from '@cairn/chain'
import { devChainRules } from '@cairn/consensus'
import { keccak256 } from '@cairn/crypto'
import { LevelKV, MemoryKV } from '@cairn/db'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { afterAll, describe, expect, it } from 'vitest'
import { importChainFile, importEngine } from '../../src/cli/commands/import.ts'

const FIXTURES = join(import.meta.dirname, '../../../../conformance/rpc-compat/fixtures')
const GENESIS = JSON.parse(readFileSync(join(FIXTURES, 'genesis.json'), 'utf8')) as unknown
const CHAIN_FILE = join(FIXTURES, 'chain.rlp')

/** Every block header of the file, in order, as RLP field lists. */
function fileHeaders(): Uint8Array[][] {
  const headers: Uint8Array[][] = []
  let rest: Uint8Array = readFileSync(CHAIN_FILE)
  while (rest.length > 0) {
    const { data, remainder } = RLP.decode(rest, true) as unknown as { data: Uint8Array[][]; remainder: Uint8Array }
    headers.push(data[0] as unknown as Uint8Array[])
    rest = remainder
  }
  return headers
}

describe('the execution-apis test chain (PoW → merge → BPO2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-rpc-compat-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('cairn init gives the genesis hash geth gives (the parent hash of block 1)', async () => {
    const kv = new LevelKV({ path: dir })
    await kv.open()
    try {
      const chain = await Chain.open(
        { genesis: GENESIS },
        { kv, engine: devChainRules, logger: silentLogger, metrics: null },
      )
      expect(bytesToHex(chain.genesisBlock.hash())).toBe(bytesToHex(fileHeaders()[0]?.[0] as Uint8Array))
    } finally {
      await kv.close()
    }
  })

  it('cairn import takes the proof-of-work era and the merge at the terminal total difficulty (blocks 1-38)', async () => {
    const kv = new LevelKV({ path: dir })
    await kv.open()
    try {
      const chain = await Chain.open({}, { kv, engine: importEngine, logger: silentLogger, metrics: null })
      // Block 39 carries the chain's first withdrawal.
      for (const block of readChainFile(CHAIN_FILE, chain.commons)) {
        if (block.header.number > 38n) break
        expect(await chain.processBlock(block, { source: 'file' })).toMatchObject({ status: 'imported', head: true })
      }
      const block38 = fileHeaders()[37] as Uint8Array[]
      expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(keccak256(RLP.encode(block38))))
      expect(chain.head.common.hardfork()).toBe('mergeNetsplitBlock')
      expect((await chain.getBlockByNumber(35n))?.common.hardfork()).toBe('grayGlacier')
      expect((await chain.getBlockByNumber(36n))?.common.hardfork()).toBe('mergeNetsplitBlock')
    } finally {
      await kv.close()
    }
  })

  it('cairn import takes every block: head hash and state root are those of the last block in the file', async () => {
    const kv = new LevelKV({ path: dir })
    await kv.open()
    try {
      const chain = await Chain.open({}, { kv, engine: importEngine, logger: silentLogger, metrics: null })
      // Blocks 1-38 are already there (the test above): known, the rest imported.
      const { imported, known } = await importChainFile(chain, CHAIN_FILE)
      const headers = fileHeaders()
      const last = headers[headers.length - 1] as Uint8Array[]
      expect([known, imported]).toEqual([38, headers.length - 38])
      expect(chain.head.header.number).toBe(BigInt(headers.length))
      expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(keccak256(RLP.encode(last))))
      expect(bytesToHex(chain.head.header.stateRoot)).toBe(bytesToHex(last[3] as Uint8Array))
      // Each stored block has the shared Common of its fork, still on that fork (none was switched).
      const seen = new Map<string, unknown>()
      for (let n = 0n; n <= chain.head.header.number; n++) {
        const block = await chain.getBlockByNumber(n)
        const fork = chain.commons.forkOf(block?.header as NonNullable<typeof block>['header'])
        expect(block?.common).toBe(chain.commons.fork(fork))
        expect(block?.common.hardfork()).toBe(fork)
        seen.set(fork, block?.common)
      }
      expect([...seen.keys()]).toEqual([
        'homestead',
        'tangerineWhistle',
        'spuriousDragon',
        'byzantium',
        'constantinople',
        'petersburg',
        'istanbul',
        'muirGlacier',
        'berlin',
        'london',
        'arrowGlacier',
        'grayGlacier',
        'mergeNetsplitBlock',
        'shanghai',
        'cancun',
        'prague',
        'osaka',
        'bpo1',
        'bpo2',
      ])
    } finally {
      await kv.close()
    }
  })

  it('a file cut short inside a block: every whole block before the cut is imported, then the read error', async () => {
    const whole = readFileSync(CHAIN_FILE)
    // the end of block 10 and half of block 11
    let end = 0
    let rest: Uint8Array = whole
    for (let i = 0; i < 10; i++) {
      const { remainder } = RLP.decode(rest, true) as unknown as { remainder: Uint8Array }
      end += rest.length - remainder.length
      rest = remainder
    }
    const next = whole.length - end - (RLP.decode(rest, true) as unknown as { remainder: Uint8Array }).remainder.length
    const cut = join(dir, 'cut.rlp')
    writeFileSync(cut, whole.subarray(0, end + Math.floor(next / 2)))
    const kv = new MemoryKV()
    await kv.open()
    const chain = await Chain.open(
      { genesis: GENESIS },
      { kv, engine: importEngine, logger: silentLogger, metrics: null },
    )
    await expect(importChainFile(chain, cut)).rejects.toThrow()
    expect(chain.head.header.number).toBe(10n)
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(keccak256(RLP.encode(fileHeaders()[9] as Uint8Array[]))))
  })
})
