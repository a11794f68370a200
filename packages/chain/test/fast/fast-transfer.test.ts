import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex } from '@cairn/utils'
import type { Common } from '@ethereumjs/common'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx, type TypedTransaction } from '@ethereumjs/tx'
import { createAddressFromString, privateToAddress } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { allPrecompilesLow } from '../../src/fast/fast-transfer.ts'
import { type Chain, logsBloom } from '../../src/index.ts'
import { ADDRS, BURN_ADDR, contractsGenesis, importBlock, KEYS, LOG_ADDR, listSource, openChain } from '../helpers.ts'

// A sender that can afford about one transfer, and an account that exists in the genesis but is
// empty (EIP-161: touching it with a zero-value transfer deletes it).
const POOR_KEY = new Uint8Array(32).fill(0x42)
const POOR = bytesToHex(privateToAddress(POOR_KEY)) as Hex
const EMPTY_ACCOUNT = '0x00000000000000000000000000000000000e0001' as Hex
const SENDER_KEYS = [...KEYS, POOR_KEY]
const SENDERS = [...ADDRS, POOR]
const FRESH = ['0x00000000000000000000000000000000000f0001', '0x00000000000000000000000000000000000f0002'] as Hex[]
const ZERO = '0x0000000000000000000000000000000000000000' as Hex
// Precompiles of every supported fork (0x01–0x11; 0x100 is Osaka's P256VERIFY) run code: EVM path.
const PRECOMPILES = ['0x01', '0x02', '0x03', '0x04', '0x05', '0x09', '0x0a', '0x11', '0x100'].map(
  (p) => `0x${p.slice(2).padStart(40, '0')}` as Hex,
)
const TARGETS = [...SENDERS, ...FRESH, EMPTY_ACCOUNT, ZERO, LOG_ADDR, BURN_ADDR, ...PRECOMPILES]
/** The first targets hold no code. */
const PLAIN_TARGETS = SENDERS.length + FRESH.length + 2
const COINBASES = [ZERO, ADDRS[0] as Hex, FRESH[0] as Hex, EMPTY_ACCOUNT, LOG_ADDR]
const WATCHED = [...new Set([...TARGETS, ...COINBASES])]

function genesis(hardfork: string): unknown {
  const g = contractsGenesis() as { alloc: Record<string, unknown>; config: Record<string, unknown> }
  g.alloc[POOR] = { balance: `0x${(21_000n * 10n ** 10n + 5n).toString(16)}` }
  g.alloc[EMPTY_ACCOUNT] = { balance: '0' }
  g.config.cairn = { hardfork }
  return g
}

const txArb = fc.record({
  from: fc.nat({ max: SENDER_KEYS.length - 1 }),
  // Mostly accounts without code (the fast path), sometimes a contract or a precompile.
  to: fc.oneof({ arbitrary: fc.nat({ max: PLAIN_TARGETS - 1 }), weight: 4 }, fc.nat({ max: TARGETS.length - 1 })),
  type: fc.constantFrom(0, 1, 2),
  value: fc.oneof(
    { arbitrary: fc.bigInt({ min: 1n, max: 10n ** 15n }), weight: 20 },
    fc.constant(0n),
    fc.constant(1n),
    fc.bigInt({ min: 0n, max: 10n ** 18n }),
    fc.constant(2n * 10n ** 22n), // more than anyone has
  ),
  nonceShift: fc.oneof({ arbitrary: fc.constant(0), weight: 20 }, fc.constantFrom(1, -1)), // mostly right, sometimes a gap or a reuse
  gasLimit: fc.oneof({ arbitrary: fc.constantFrom(21_000n, 30_000n, 100_000n), weight: 20 }, fc.constant(40_000_000n)),
  feeCap: fc.oneof({ arbitrary: fc.constantFrom(10n ** 10n, 2n * 10n ** 9n), weight: 20 }, fc.constant(1n)), // 1 wei: under the base fee
  // 1.5 gwei with a 2 gwei cap: the effective tip is capped at cap − base fee; 10^11 > any cap: invalid.
  tip: fc.constantFrom(0n, 0n, 1n, 10n ** 9n, 15n * 10n ** 8n, 15n * 10n ** 8n, 10n ** 11n), // 0: nothing to the coinbase
  data: fc.oneof({ arbitrary: fc.constant(false), weight: 10 }, fc.constant(true)),
  accessList: fc.oneof({ arbitrary: fc.constant(false), weight: 10 }, fc.constant(true)),
})
type TxSpec = typeof txArb extends fc.Arbitrary<infer T> ? T : never

function makeTx(common: Common, spec: TxSpec, nonce: bigint): TypedTransaction | undefined {
  const base = {
    nonce: nonce < 0n ? 0n : nonce,
    to: TARGETS[spec.to] as Hex,
    value: spec.value,
    // Data or an access list cost more than 21,000 intrinsic gas.
    gasLimit: spec.gasLimit === 21_000n && (spec.data || spec.accessList) ? 30_000n : spec.gasLimit,
    data: (spec.data ? '0x01' : '0x') as Hex,
  }
  const accessList = spec.accessList ? [{ address: FRESH[1] as Hex, storageKeys: [] }] : []
  const key = SENDER_KEYS[spec.from] as Uint8Array
  try {
    if (spec.type === 0) return createLegacyTx({ ...base, gasPrice: spec.feeCap }, { common }).sign(key)
    if (spec.type === 1)
      return createAccessList2930Tx({ ...base, gasPrice: spec.feeCap, accessList }, { common }).sign(key)
    return createFeeMarket1559Tx(
      { ...base, maxFeePerGas: spec.feeCap, maxPriorityFeePerGas: spec.tip, accessList },
      { common },
    ).sign(key)
  } catch {
    return undefined // a transaction @ethereumjs refuses to create (tip above fee cap…): not sendable
  }
}

async function state(chain: Chain, root: Uint8Array) {
  const view = chain.stateAt(root)
  const out: Record<string, string> = {}
  for (const a of WATCHED) {
    const acc = await view.getAccount(createAddressFromString(a))
    out[a] = acc ? `${acc.balance}/${acc.nonce}` : 'absent'
  }
  return out
}

describe('plain transfers: fast path vs the EVM path (differential)', () => {
  it('random blocks of random transfers give identical blocks, receipts, rejections and state', async () => {
    let fastTotal = 0
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('prague', 'cancun', 'osaka'),
        fc.array(
          fc.record({ coinbase: fc.nat({ max: COINBASES.length - 1 }), txs: fc.array(txArb, { maxLength: 16 }) }),
          { minLength: 1, maxLength: 4 },
        ),
        async (hardfork, blocks) => {
          const fast = await openChain(new MemoryKV(), genesis(hardfork))
          const slow = await openChain(new MemoryKV(), genesis(hardfork))
          const replica = await openChain(new MemoryKV(), genesis(hardfork))
          chainParts(slow).executor.fastTransfers = false
          const nonces = SENDERS.map(() => 0n)
          let timestamp = fast.head.header.timestamp
          for (const b of blocks) {
            const used = SENDERS.map(() => 0n)
            const txs: TypedTransaction[] = []
            for (const spec of b.txs) {
              const nonce = (nonces[spec.from] as bigint) + (used[spec.from] as bigint) + BigInt(spec.nonceShift)
              const tx = makeTx(fast.common, spec, nonce)
              if (!tx) continue
              txs.push(tx)
              used[spec.from] = (used[spec.from] as bigint) + 1n
            }
            timestamp += 12n
            const header = { timestamp, coinbase: createAddressFromString(COINBASES[b.coinbase] as Hex).bytes }
            const before = chainParts(fast).executor.fastCount
            const f = await fast.build(fast.head, header, listSource(txs))
            fastTotal += chainParts(fast).executor.fastCount - before
            const s = await slow.build(slow.head, header, listSource(txs))
            // The header carries the state root, receipts root, bloom, gas used and transactions root.
            expect(bytesToHex(f.block.hash())).toBe(bytesToHex(s.block.hash()))
            expect(f.receipts).toEqual(s.receipts)
            // The block's bloom is the OR of its receipts' (computed here independently).
            expect(bytesToHex(f.block.header.logsBloom)).toBe(bytesToHex(logsBloom(f.receipts.flatMap((r) => r.logs))))
            expect(f.rejected.map((r) => [bytesToHex(r.tx.hash()), r.reason])).toEqual(
              s.rejected.map((r) => [bytesToHex(r.tx.hash()), r.reason]),
            )
            await fast.committer.commit(f)
            await slow.committer.commit(s)
            // A peer executing the block (Executor.execute, fast path on) checks every header field.
            await importBlock(replica, f.block)
            expect(bytesToHex(replica.head.hash())).toBe(bytesToHex(f.block.hash()))
            expect(await state(fast, f.block.header.stateRoot)).toEqual(await state(slow, s.block.header.stateRoot))
            // Nonces actually used: the sender's account nonce after the block.
            for (const [k, a] of SENDERS.entries()) {
              const acc = await fast.stateAt(f.block.header.stateRoot).getAccount(createAddressFromString(a))
              nonces[k] = acc?.nonce ?? 0n
            }
          }
        },
      ),
      { numRuns: 40 },
    )
    // The property is about the fast path: it must have run, and often.
    expect(fastTotal).toBeGreaterThan(100)
  }, 240_000)
})

describe('allPrecompilesLow (the fast path skips the precompile lookup for other addresses)', () => {
  const low = fc.integer({ min: 1, max: 0xffff }).map((n) => n.toString(16).padStart(40, '0'))
  const other = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b).slice(2))

  it('holds exactly when every key has 18 leading zero bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(low, other), { maxLength: 20 }), (keys) => {
        const expected = keys.every((k) => /^0{36}/.test(k))
        expect(allPrecompilesLow(new Map(keys.map((k) => [k, null])))).toBe(expected)
      }),
    )
  })

  it("holds for every supported fork's EVM precompiles", async () => {
    for (const hardfork of ['cancun', 'prague', 'osaka']) {
      const chain = await openChain(new MemoryKV(), genesis(hardfork))
      const { vm } = chainParts(chain).executor as unknown as { vm: { evm: { precompiles: Map<string, unknown> } } }
      expect(vm.evm.precompiles.size).toBeGreaterThan(8)
      expect(allPrecompilesLow(vm.evm.precompiles)).toBe(true)
    }
  })

  it('refuses a key of another length', () => {
    expect(allPrecompilesLow(new Map([['01', null]]))).toBe(false)
  })
})
