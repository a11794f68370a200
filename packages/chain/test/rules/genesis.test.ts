import { MemoryKV } from '@cairn/db'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { bytesToBigInt, createAddressFromString } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { Chain, ChainErrorCode, devGenesis, parseGenesis } from '../../src/index.ts'
import {
  ADDRS,
  balanceAt,
  buildAndImport,
  cairnError,
  cairnErrorSync,
  dumpKV,
  KEYS,
  openChain,
  testEngine,
  transfer,
} from '../helpers.ts'

const A1 = '0x1000000000000000000000000000000000000001'
const A2 = '2000000000000000000000000000000000000002' // no 0x prefix
const A3 = '0x3000000000000000000000000000000000000003'
const A4 = '0xABCDEF0000000000000000000000000000000004' // mixed case

/** A geth-style genesis.json as `geth init` takes it. */
function gethGenesis(): Record<string, unknown> {
  return {
    config: {
      chainId: 12345,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      terminalTotalDifficulty: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      blobSchedule: { cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 } },
    },
    alloc: {
      [A1]: { balance: '0xde0b6b3a7640000' }, // 1 ether, hex
      [A2]: { balance: '2000000000000000000' }, // 2 ether, decimal string
      [A3]: {
        balance: 0,
        nonce: '0x5',
        code: '0x6001600055',
        storage: {
          '0x01': '0x2a',
          '0000000000000000000000000000000000000000000000000000000000000002': 'ff',
        },
      },
      [A4]: { balance: 7, nonce: 3 },
    },
    gasLimit: '0x2faf080', // 50,000,000
    baseFeePerGas: '0x7',
    timestamp: '0x5f5e100',
    extraData: '0x1234',
    difficulty: '0x0',
    nonce: '0x42',
    mixHash: `0x${'ab'.repeat(32)}`,
    coinbase: '0x000000000000000000000000000000000000c01b',
    number: '0x0',
    gasUsed: '0x0',
    parentHash: `0x${'00'.repeat(32)}`,
  }
}

function minimal(extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  return { config: { chainId: 7, ...config }, alloc: { [A1]: { balance: '1' } }, ...extra }
}

describe('parseGenesis', () => {
  it('accepts a geth-style genesis: numbers as hex, decimal strings and JSON numbers, addresses with and without 0x', () => {
    const spec = parseGenesis(gethGenesis())
    expect(spec.chainId).toBe(12345n)
    expect(spec.hardfork).toBe('prague')
    expect(spec.gasLimit).toBe(50_000_000n)
    expect(spec.baseFeePerGas).toBe(7n)
    expect(spec.timestamp).toBe(100_000_000n)
    expect(bytesToHex(spec.extraData)).toBe('0x1234')
    expect(spec.nonce).toBe(0x42n)
    expect(spec.mixHash).toBe(`0x${'ab'.repeat(32)}`)
    expect(spec.coinbase).toBe('0x000000000000000000000000000000000000c01b')
    expect([...spec.alloc.keys()].sort()).toEqual([A1, `0x${A2}`, A3, A4.toLowerCase()].sort())
    expect(spec.alloc.get(A1)?.balance).toBe(10n ** 18n)
    expect(spec.alloc.get(`0x${A2}`)?.balance).toBe(2n * 10n ** 18n)
    const a3 = spec.alloc.get(A3)
    expect(a3?.balance).toBe(0n)
    expect(a3?.nonce).toBe(5n)
    expect(bytesToHex(a3?.code ?? new Uint8Array())).toBe('0x6001600055')
    expect(a3?.storage.map(([k, v]) => [bytesToHex(k), bytesToHex(v)])).toEqual([
      [`0x${'00'.repeat(31)}01`, `0x${'00'.repeat(31)}2a`],
      [`0x${'00'.repeat(31)}02`, `0x${'00'.repeat(31)}ff`],
    ])
    const a4 = spec.alloc.get(A4.toLowerCase() as `0x${string}`)
    expect(a4?.balance).toBe(7n)
    expect(a4?.nonce).toBe(3n)
    expect(a4?.code).toBeUndefined()
  })

  it('config.chainId may be a decimal or 0x-hex string, as the other numbers; zero or past 2^53-1 is refused', () => {
    const withChainId = (chainId: unknown) => ({
      ...gethGenesis(),
      config: { ...(gethGenesis().config as object), chainId },
    })
    expect(parseGenesis(withChainId('12345')).chainId).toBe(12345n)
    expect(parseGenesis(withChainId('0x3039')).chainId).toBe(12345n)
    expect(parseGenesis(withChainId(12345)).chainId).toBe(12345n)
    for (const bad of ['0', 0, '9007199254740992', 'abc', -1]) {
      const err = cairnErrorSync(() => parseGenesis(withChainId(bad)))
      expect(err.code, String(bad)).toBe(ChainErrorCode.GENESIS_INVALID)
      expect(err.message).toContain('chainId')
    }
  })

  it('applies the defaults: 30M gas limit, 1 gwei base fee, timestamp 0, empty extra data', () => {
    const spec = parseGenesis(minimal())
    expect(spec.gasLimit).toBe(30_000_000n)
    expect(spec.baseFeePerGas).toBe(1_000_000_000n)
    expect(spec.timestamp).toBe(0n)
    expect(spec.extraData.length).toBe(0)
    expect(spec.warnings).toEqual([])
  })

  describe('hardfork choice', () => {
    it('config.cairn.hardfork wins over the fork times', () => {
      expect(parseGenesis(minimal({}, { cairn: { hardfork: 'cancun' }, pragueTime: 0 })).hardfork).toBe('cancun')
      expect(parseGenesis(minimal({}, { cairn: { hardfork: 'osaka' }, cancunTime: 0 })).hardfork).toBe('osaka')
    })

    it('else the latest geth fork time at 0', () => {
      expect(parseGenesis(minimal({}, { shanghaiTime: 0, cancunTime: 0 })).hardfork).toBe('cancun')
      expect(parseGenesis(minimal({}, { shanghaiTime: 0, cancunTime: 0, pragueTime: 0 })).hardfork).toBe('prague')
      expect(parseGenesis(minimal({}, { cancunTime: 0, pragueTime: 0, osakaTime: 0 })).hardfork).toBe('osaka')
    })

    it('a fork scheduled later is in the schedule; the genesis runs the one before it', () => {
      const spec = parseGenesis(minimal({}, { shanghaiTime: 0, cancunTime: 0, pragueTime: 1_700_000_000 }))
      expect(spec.hardfork).toBe('cancun')
      expect(spec.warnings).toEqual([])
      expect(spec.schedule.forks.find((f) => f.name === 'prague')?.timestamp).toBe(1_700_000_000n)
    })

    it('else osaka (the default for new chains)', () => {
      expect(parseGenesis(minimal()).hardfork).toBe('osaka')
      expect(parseGenesis(minimal(), 'g', { defaultHardfork: 'prague' }).hardfork).toBe('prague')
    })

    it('a shanghai genesis runs shanghai (no blob fields)', () => {
      expect(parseGenesis(minimal({}, { shanghaiTime: 0 })).hardfork).toBe('shanghai')
      const err = cairnErrorSync(() => parseGenesis(minimal({ excessBlobGas: '0x0' }, { shanghaiTime: 0 })))
      expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
      expect(err.message).toMatch(/excessBlobGas.*cancun/)
    })

    it('refuses an unsupported config.cairn.hardfork', () => {
      const err = cairnErrorSync(() => parseGenesis(minimal({}, { cairn: { hardfork: 'shanghai' } })))
      expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
      expect(err.message).toContain('config.cairn.hardfork')
    })

    it('a cancun chain runs cancun rules (no EIP-7685 requests hash), a prague chain has one', async () => {
      const cancun = await openChain(new MemoryKV(), minimal({}, { cancunTime: 0 }))
      expect(cancun.common.hardfork()).toBe('cancun')
      expect(cancun.genesisBlock.header.requestsHash).toBeUndefined()
      expect(cancun.genesisBlock.header.parentBeaconBlockRoot).toBeDefined()
      const prague = await openChain(new MemoryKV(), minimal({}, { pragueTime: 0 }))
      expect(prague.common.hardfork()).toBe('prague')
      expect(prague.genesisBlock.header.requestsHash).toBeDefined()
    })
  })

  describe('bad inputs give CHAIN_GENESIS_INVALID naming the field', () => {
    const addr = '0x1111111111111111111111111111111111111111'
    const cases: [string, unknown, RegExp][] = [
      ['not an object', 'hello', /\(root\)/],
      ['missing config', { alloc: {} }, /"config"/],
      ['missing chainId', { config: {} }, /config\.chainId/],
      ['chainId not a number', { config: { chainId: 'one' } }, /config\.chainId/],
      ['chainId 0', { config: { chainId: 0 } }, /config\.chainId/],
      [
        'negative balance',
        { config: { chainId: 1 }, alloc: { [addr]: { balance: -1 } } },
        new RegExp(`alloc\\.${addr}\\.balance`),
      ],
      ['negative balance string', { config: { chainId: 1 }, alloc: { [addr]: { balance: '-5' } } }, /balance/],
      ['garbage balance', { config: { chainId: 1 }, alloc: { [addr]: { balance: 'lots' } } }, /balance/],
      ['fractional balance', { config: { chainId: 1 }, alloc: { [addr]: { balance: 1.5 } } }, /balance/],
      ['short address', { config: { chainId: 1 }, alloc: { '0x1234': { balance: '1' } } }, /alloc\.0x1234/],
      ['non-hex address', { config: { chainId: 1 }, alloc: { [`0x${'zz'.repeat(20)}`]: { balance: '1' } } }, /alloc/],
      ['odd-length code', { config: { chainId: 1 }, alloc: { [addr]: { code: '0x600' } } }, /code/],
      [
        'unknown alloc field',
        { config: { chainId: 1 }, alloc: { [addr]: { balanse: '1' } } },
        new RegExp(`alloc\\.${addr}`),
      ],
      [
        'storage value > 32 bytes',
        { config: { chainId: 1 }, alloc: { [addr]: { storage: { '0x01': `0x${'11'.repeat(33)}` } } } },
        /storage/,
      ],
      ['extraData > 32 bytes', { config: { chainId: 1 }, extraData: `0x${'ab'.repeat(33)}` }, /"extraData"/],
      ['extraData not hex', { config: { chainId: 1 }, extraData: 'hello' }, /"extraData"/],
      ['number != 0', { config: { chainId: 1 }, number: '0x1' }, /"number"/],
      ['number 5 as JSON number', { config: { chainId: 1 }, number: 5 }, /"number"/],
      ['gasLimit below 5000', { config: { chainId: 1 }, gasLimit: '4999' }, /"gasLimit"/],
      ['gasLimit garbage', { config: { chainId: 1 }, gasLimit: '30M' }, /"gasLimit"/],
      ['baseFeePerGas negative', { config: { chainId: 1 }, baseFeePerGas: -1 }, /"baseFeePerGas"/],
    ]
    for (const [name, json, field] of cases) {
      it(name, () => {
        const err = cairnErrorSync(() => parseGenesis(json, 'genesis.json'))
        expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
        expect(err.fault).toBe('caller')
        expect(err.message).toMatch(/^genesis\.json: /)
        expect(err.message).toMatch(field)
      })
    }

    it('a duplicate address differing only by case', () => {
      const lower = '0xabcdef0000000000000000000000000000000001'
      const upper = '0xABCDEF0000000000000000000000000000000001'
      const err = cairnErrorSync(() =>
        parseGenesis({ config: { chainId: 1 }, alloc: { [lower]: { balance: '1' }, [upper]: { balance: '2' } } }),
      )
      expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
      expect(err.message).toContain(lower)
      expect(err.message).toMatch(/twice in "alloc"/)
    })

    it('a duplicate address written with and without 0x', () => {
      const err = cairnErrorSync(() =>
        parseGenesis({ config: { chainId: 1 }, alloc: { [A1]: { balance: '1' }, [A1.slice(2)]: { balance: '1' } } }),
      )
      expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
      expect(err.message).toMatch(/twice/)
    })

    it('number 0 and extraData of exactly 32 bytes are fine', () => {
      expect(parseGenesis(minimal({ number: '0x0', extraData: `0x${'ab'.repeat(32)}` })).extraData.length).toBe(32)
    })
  })
})

describe('out-of-range numbers', () => {
  // Regression (was a bug in src/genesis.ts, `numeric` at line 12 and its uses): numbers are only checked to be
  // non-negative decimal/hex; no upper bound. geth refuses these (uint64 for header nonce,
  // timestamp, gasLimit and account nonces; 256 bits for balances and the base fee). Cairn accepts
  // them: the header nonce is silently truncated mod 2^64 by DataView.setBigUint64
  // (genesis-block.ts bigToNonce), so `"nonce": "0x10000000000000000"` gives the SAME genesis hash
  // as nonce 0; a 2^256 balance puts an account into the state that no EVM word can hold.
  // Fix: bound `numeric` per field (u64 / u256) in genesisSchema, or check after BigInt().
  const A = '0x1000000000000000000000000000000000000001'
  const TWO_64 = `0x1${'0'.repeat(16)}`
  const TWO_256 = `0x1${'0'.repeat(64)}`
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['header nonce >= 2^64', { nonce: TWO_64 }, /nonce/],
    ['timestamp >= 2^64', { timestamp: TWO_64 }, /timestamp/],
    ['gasLimit >= 2^64', { gasLimit: TWO_64 }, /gasLimit/],
    ['baseFeePerGas >= 2^256', { baseFeePerGas: TWO_256 }, /baseFeePerGas/],
    ['alloc balance >= 2^256', { alloc: { [A]: { balance: TWO_256 } } }, /balance/],
    ['alloc nonce >= 2^64', { alloc: { [A]: { balance: '1', nonce: TWO_64 } } }, /nonce/],
  ]
  for (const [name, extra, field] of cases) {
    it(`refuses ${name} with CHAIN_GENESIS_INVALID`, async () => {
      const err = await cairnError(
        openChain(new MemoryKV(), { config: { chainId: 1 }, alloc: { [A]: { balance: '1' } }, ...extra }),
      )
      expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
      expect(err.message).toMatch(field)
    })
  }

  it('the largest in-range values are accepted', async () => {
    const chain = await openChain(new MemoryKV(), {
      config: { chainId: 1 },
      alloc: { [A]: { balance: `0x${'f'.repeat(64)}`, nonce: `0x${'f'.repeat(16)}` } },
      nonce: `0x${'f'.repeat(16)}`,
    })
    expect(bytesToHex(chain.genesisBlock.header.nonce)).toBe(`0x${'f'.repeat(16)}`)
    expect(await balanceAt(chain, chain.genesisBlock.header.stateRoot, A)).toBe(2n ** 256n - 1n)
  })

  it('a large balance as an unquoted JSON number is refused (it lost precision in JSON.parse)', () => {
    const err = cairnErrorSync(() =>
      parseGenesis(JSON.parse(`{"config":{"chainId":1},"alloc":{"${A}":{"balance":1000000000000000000001}}}`)),
    )
    expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
    expect(err.message).toMatch(/balance/)
  })
})

describe('genesis block', () => {
  it('puts the alloc in the state: balances, nonces, code and storage', async () => {
    const chain = await openChain(new MemoryKV(), gethGenesis())
    const root = chain.genesisBlock.header.stateRoot
    const state = chain.stateAt(root)
    const at = (a: string) => createAddressFromString(a.startsWith('0x') ? a : `0x${a}`)
    expect((await state.getAccount(at(A1)))?.balance).toBe(10n ** 18n)
    expect((await state.getAccount(at(A2)))?.balance).toBe(2n * 10n ** 18n)
    expect((await state.getAccount(at(A3)))?.nonce).toBe(5n)
    expect((await state.getAccount(at(A4.toLowerCase())))?.balance).toBe(7n)
    expect((await state.getAccount(at(A4.toLowerCase())))?.nonce).toBe(3n)
    expect(bytesToHex(await state.getCode(at(A3)))).toBe('0x6001600055')
    const slot = (n: number) => {
      const k = new Uint8Array(32)
      k[31] = n
      return k
    }
    expect(bytesToBigInt(await state.getStorage(at(A3), slot(1)))).toBe(0x2an)
    expect(bytesToBigInt(await state.getStorage(at(A3), slot(2)))).toBe(0xffn)
    expect(bytesToBigInt(await state.getStorage(at(A3), slot(3)))).toBe(0n)
    expect(await state.getAccount(at('0x9999999999999999999999999999999999999999'))).toBeUndefined()
  })

  it('takes its header fields from the genesis', async () => {
    const chain = await openChain(new MemoryKV(), gethGenesis())
    const h = chain.genesisBlock.header
    expect(h.number).toBe(0n)
    expect(h.gasLimit).toBe(50_000_000n)
    expect(h.baseFeePerGas).toBe(7n)
    expect(h.timestamp).toBe(100_000_000n)
    expect(bytesToHex(h.extraData)).toBe('0x1234')
    expect(bytesToHex(h.nonce)).toBe('0x0000000000000042')
    expect(bytesToHex(h.mixHash)).toBe(`0x${'ab'.repeat(32)}`)
    expect(h.coinbase.toString()).toBe('0x000000000000000000000000000000000000c01b')
    expect(chain.chainId).toBe(12345n)
    expect(chain.common.chainId()).toBe(12345n)
  })

  it('has a 30,000,000 gas limit and a 1 gwei base fee by default', async () => {
    const chain = await openChain(new MemoryKV(), minimal())
    expect(chain.genesisBlock.header.gasLimit).toBe(30_000_000n)
    expect(chain.genesisBlock.header.baseFeePerGas).toBe(1_000_000_000n)
    expect(chain.head.hash()).toEqual(chain.genesisBlock.hash())
    expect(chain.report).toEqual({ created: true, rolledBack: 0, warnings: [] })
    expect(await chain.getCanonicalHash(0n)).toEqual(chain.genesisBlock.hash())
    for (const name of ['latest', 'safe', 'finalized'] as const) {
      expect(await chainParts(chain).store.getHeadHash(name)).toEqual(chain.genesisBlock.hash())
    }
  })

  it('the same genesis gives the same hash; address case and key order do not matter; a change does', async () => {
    const a = await openChain(new MemoryKV(), gethGenesis())
    const b = await openChain(new MemoryKV(), gethGenesis())
    expect(a.genesisBlock.hash()).toEqual(b.genesisBlock.hash())

    const reordered = gethGenesis()
    const alloc = reordered.alloc as Record<string, unknown>
    reordered.alloc = Object.fromEntries(
      Object.entries(alloc)
        .reverse()
        .map(([k, v]) => [k.startsWith('0x') ? `0x${k.slice(2).toUpperCase()}` : k.toLowerCase(), v]),
    )
    const c = await openChain(new MemoryKV(), reordered)
    expect(c.genesisBlock.hash()).toEqual(a.genesisBlock.hash())

    const changed = gethGenesis()
    ;(changed.alloc as Record<string, { balance: unknown }>)[A1] = { balance: '0xde0b6b3a7640001' }
    const d = await openChain(new MemoryKV(), changed)
    expect(d.genesisBlock.hash()).not.toEqual(a.genesisBlock.hash())
  })

  // Regression (was a bug in src/chain.ts repairHead + src/state-db.ts has): a genesis without any allocation has the
  // empty state root (keccak256(rlp(''))). No trie node is ever stored for it, so
  // `stateDB.has(header.stateRoot)` is false, repairHead judges the genesis "incomplete" and throws
  // CHAIN_CORRUPT on the very first open (after having written the genesis to the datadir).
  it('opens a genesis with an empty alloc (empty state root)', async () => {
    const chain = await openChain(new MemoryKV(), { config: { chainId: 5 } })
    expect(chain.head.header.number).toBe(0n)
  })
})

describe('opening a datadir', () => {
  it('refuses a different genesis with CHAIN_GENESIS_MISMATCH and writes nothing', async () => {
    const kv = new MemoryKV()
    const chain = await openChain(kv)
    await buildAndImport(chain, [transfer(chain.common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1n)])
    const before = await dumpKV(kv)

    // a genesis that differs only in one balance is another chain
    const richer = devGenesis({ accounts: ADDRS, balance: 1n })
    const err = await cairnError(
      Chain.open(
        { genesis: richer, genesisSource: 'other.json' },
        { kv, engine: testEngine, logger: silentLogger, metrics: null },
      ),
    )
    expect(err.code).toBe(ChainErrorCode.GENESIS_MISMATCH)
    expect(err.fault).toBe('caller')
    expect(err.message).toContain(bytesToHex(chain.genesisBlock.hash()))
    expect(err.message).toContain('other.json')
    expect(await dumpKV(kv)).toEqual(before)

    // so is one with another timestamp
    const later = devGenesis({ accounts: ADDRS, timestamp: 1000n })
    expect((await cairnError(openChain(kv, later))).code).toBe(ChainErrorCode.GENESIS_MISMATCH)
    expect(await dumpKV(kv)).toEqual(before)
  })

  // Regression (was a bug in src/chain.ts Chain.open, lines 91-99, the storedHash check): the only check of an existing
  // datadir is the genesis block hash, and the chain id is not part of any header field. A genesis.json that differs only
  // in config.chainId is accepted; the chain then runs with the NEW chain id (spec comes from
  // opts.genesis) over blocks and transactions signed for the old one.
  it('refuses a genesis that differs only in config.chainId', async () => {
    const kv = new MemoryKV()
    await openChain(kv, devGenesis({ accounts: ADDRS, chainId: 1337n }))
    const before = await dumpKV(kv)
    const err = await cairnError(openChain(kv, devGenesis({ accounts: ADDRS, chainId: 1338n })))
    expect(err.code).toBe(ChainErrorCode.GENESIS_MISMATCH)
    expect(await dumpKV(kv)).toEqual(before)
  })

  // Same regression as above: prague and osaka genesis blocks have identical headers, so switching the
  // ruleset of an existing chain is accepted silently and the executor runs osaka from then on.
  it('refuses a genesis that differs only in the hardfork', async () => {
    const kv = new MemoryKV()
    await openChain(kv, minimal({}, { pragueTime: 0 }))
    const before = await dumpKV(kv)
    const err = await cairnError(openChain(kv, minimal({}, { pragueTime: 0, osakaTime: 0 })))
    expect(err.code).toBe(ChainErrorCode.GENESIS_MISMATCH)
    expect(await dumpKV(kv)).toEqual(before)
  })

  it('without a genesis uses the stored one and resumes at the stored head', async () => {
    const kv = new MemoryKV()
    const genesis = devGenesis({ accounts: ADDRS, chainId: 4242n })
    const first = await openChain(kv, genesis)
    const { block } = await buildAndImport(first, [
      transfer(first.common, KEYS[0] as Uint8Array, 0n, ADDRS[2] as `0x${string}`, 123n),
    ])

    const again = await Chain.open({}, { kv, engine: testEngine, logger: silentLogger, metrics: null })
    expect(again.report.created).toBe(false)
    expect(again.report.rolledBack).toBe(0)
    expect(again.chainId).toBe(4242n)
    expect(again.genesisBlock.hash()).toEqual(first.genesisBlock.hash())
    expect(again.head.hash()).toEqual(block.hash())
    expect(await balanceAt(again, again.head.header.stateRoot, ADDRS[2] as `0x${string}`)).toBe(
      10_000n * 10n ** 18n + 123n,
    )

    // and with the same genesis given explicitly
    const same = await openChain(kv, genesis)
    expect(same.report.created).toBe(false)
    expect(same.head.hash()).toEqual(block.hash())
  })

  it('an empty datadir without a genesis is refused', async () => {
    const kv = new MemoryKV()
    const err = await cairnError(Chain.open({}, { kv, engine: testEngine, logger: silentLogger, metrics: null }))
    expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
    expect(await dumpKV(kv)).toEqual(new Map())
  })

  it('an invalid genesis writes nothing', async () => {
    const kv = new MemoryKV()
    const err = await cairnError(openChain(kv, { config: { chainId: 1 }, number: 1 }))
    expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
    expect(await dumpKV(kv)).toEqual(new Map())
  })
})

describe('genesis.json as geth writes it', () => {
  const london = {
    homesteadBlock: 0,
    eip150Block: 0,
    eip155Block: 0,
    eip158Block: 0,
    byzantiumBlock: 0,
    constantinopleBlock: 0,
    petersburgBlock: 0,
    istanbulBlock: 0,
    berlinBlock: 0,
  }

  it('nulls are absent fields: "baseFeePerGas": null on London gives the initial base fee', async () => {
    const g = minimal(
      { baseFeePerGas: null, excessBlobGas: null, blobGasUsed: null, number: '0x0', coinbase: null },
      { ...london, londonBlock: 0, terminalTotalDifficulty: 0, shanghaiTime: null, daoForkBlock: null },
    )
    const spec = parseGenesis(g)
    expect(spec.hardfork).toBe('paris')
    expect(spec.baseFeePerGas).toBe(1_000_000_000n)
    const chain = await openChain(new MemoryKV(), g)
    expect(chain.genesisBlock.header.baseFeePerGas).toBe(1_000_000_000n)
    expect(chain.genesisBlock.header.withdrawalsRoot).toBeUndefined()
  })

  it('a pre-London genesis has no base fee (and refuses one)', async () => {
    const g = minimal({ difficulty: '0x20000' }, { ...london, londonBlock: 5, terminalTotalDifficulty: '1000000' })
    const chain = await openChain(new MemoryKV(), g)
    expect(chain.genesis.hardfork).toBe('berlin')
    expect(chain.genesisBlock.header.baseFeePerGas).toBeUndefined()
    const err = cairnErrorSync(() => parseGenesis({ ...g, baseFeePerGas: '0x7' }))
    expect(err.code).toBe(ChainErrorCode.GENESIS_INVALID)
    expect(err.message).toMatch(/baseFeePerGas.*London/)
  })

  it('excessBlobGas, blobGasUsed, parentBeaconBlockRoot and requestsHash go into the header', async () => {
    const root = `0x${'12'.repeat(32)}`
    const requests = `0x${'34'.repeat(32)}`
    const g = minimal(
      { excessBlobGas: '0x60000', blobGasUsed: '0x20000', parentBeaconBlockRoot: root, requestsHash: requests },
      { pragueTime: 0 },
    )
    const h = (await openChain(new MemoryKV(), g)).genesisBlock.header
    expect([h.excessBlobGas, h.blobGasUsed]).toEqual([0x60000n, 0x20000n])
    expect(bytesToHex(h.parentBeaconBlockRoot as Uint8Array)).toBe(root)
    expect(bytesToHex(h.requestsHash as Uint8Array)).toBe(requests)
    const err = cairnErrorSync(() => parseGenesis(minimal({ requestsHash: requests }, { cancunTime: 0 })))
    expect(err.message).toMatch(/requestsHash.*prague/)
  })

  it('refuses what it cannot run as geth would, and warns about settings it ignores', () => {
    for (const [config, why] of [
      [{ clique: { period: 5 } }, /clique/],
      [{ pragueTime: 0, bpo3Time: 0 }, /BPO3/],
      [{ ...london, londonBlock: 0, arrowGlacierBlock: 5, grayGlacierBlock: 3 }, /fork order/],
      [{ homesteadBlock: 0, byzantiumBlock: 0 }, /fork order: tangerineWhistle is not enabled/],
      [
        { eip155Block: 1, eip158Block: 2, homesteadBlock: 0, eip150Block: 0 },
        /eip155Block \(1\) and config.eip158Block \(2\)/,
      ],
      [{ pragueTime: 0, blobSchedule: { prague: { target: 9, max: 6, baseFeeUpdateFraction: 1 } } }, /target > max/],
    ] as const) {
      expect(cairnErrorSync(() => parseGenesis(minimal({}, config))).message).toMatch(why)
    }
    expect(parseGenesis(minimal({}, { pragueTime: 0, someFutureSetting: 1 })).warnings).toEqual([
      'config.someFutureSetting is not a setting Cairn knows; ignored',
    ])
  })
})
