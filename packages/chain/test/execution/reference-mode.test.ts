// Reference mode (`reference: true`) turns every speed shim off at once. The same blocks must come
// out the same both ways: built in one mode, executed in the other, with equal state roots,
// receipts and block hashes; and in reference mode no shim may run.
import { MemoryKV } from '@cairn/db'
import { bytesToHex, silentLogger } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { Chain, decodeTransaction } from '../../src/index.ts'
import { isReferenceCommon } from '../../src/rules/common.ts'
import {
  ADDRS,
  BH1_ADDR,
  BURN_ADDR,
  call,
  contractsGenesis,
  KEYS,
  LOG_ADDR,
  listSource,
  testEngine,
  typedTx,
  word,
} from '../helpers.ts'

async function open(reference: boolean): Promise<Chain> {
  const kv = new MemoryKV()
  await kv.open()
  return Chain.open(
    { genesis: contractsGenesis(), reference },
    { kv, engine: testEngine, logger: silentLogger, metrics: null },
  )
}

type Step = { kind: 'transfer'; type: number; value: bigint } | { kind: 'log' | 'blockhash' | 'burn'; byte: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('transfer' as const),
    type: fc.integer({ min: 0, max: 2 }),
    value: fc.bigInt(0n, 10n ** 18n),
  }),
  fc.record({
    kind: fc.constantFrom('log' as const, 'blockhash' as const, 'burn' as const),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
)

/** Signed transactions for `steps`, spread over the three keys, nonces from `nonces`. */
function txsOf(chain: Chain, steps: Step[], nonces: bigint[]): TypedTransaction[] {
  return steps.map((s, i) => {
    const k = i % KEYS.length
    const key = KEYS[k] as Uint8Array
    const nonce = nonces[k] as bigint
    nonces[k] = nonce + 1n
    if (s.kind === 'transfer')
      return typedTx(chain.common, key, s.type, { nonce, value: s.value, gasLimit: 21_000n, data: new Uint8Array() })
    const to = s.kind === 'log' ? LOG_ADDR : s.kind === 'blockhash' ? BH1_ADDR : BURN_ADDR
    return call(chain.common, key, nonce, to, word(s.byte))
  })
}

describe('reference mode', () => {
  it('builds and executes the same blocks as the shims, either way round', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(step, { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (blocks, fastBuilds) => {
          const fast = await open(false)
          const ref = await open(true)
          const [builder, follower] = fastBuilds ? [fast, ref] : [ref, fast]
          const nonces = ADDRS.map(() => 0n)
          for (const steps of blocks) {
            const parent = builder.head
            const built = await builder.build(
              parent,
              { timestamp: parent.header.timestamp + 12n },
              listSource(txsOf(builder, steps, nonces)),
            )
            await builder.committer.commit(built)
            // As bytes: the follower decodes them with its own Commons (its own decoder).
            const verified = await follower.verifier.verify(built.block.serialize(), follower.head, { source: 'rpc' })
            if (!verified.ok) throw verified.error
            await follower.committer.commit(verified.executed)
            expect(bytesToHex(follower.head.hash())).toBe(bytesToHex(builder.head.hash()))
            const a = await builder.getReceipts(built.block.hash())
            const b = await follower.getReceipts(built.block.hash())
            expect(b).toEqual(a)
          }
        },
      ),
      { numRuns: 12 },
    )
  })

  it('runs no shim', async () => {
    const fast = await open(false)
    const ref = await open(true)
    expect(ref.reference).toBe(true)
    expect(fast.reference).toBe(false)
    for (const chain of [fast, ref]) {
      const txs = txsOf(
        chain,
        [
          { kind: 'transfer', type: 2, value: 5n },
          { kind: 'transfer', type: 0, value: 7n },
        ],
        ADDRS.map(() => 0n),
      )
      const built = await chain.build(chain.head, { timestamp: chain.head.header.timestamp + 12n }, listSource(txs))
      await chain.committer.commit(built)
    }
    // The transfer fast path ran on the fast chain only.
    expect(chainParts(fast).executor.fastCount).toBe(2)
    expect(chainParts(ref).executor.fastCount).toBe(0)
    // No synchronous trie reads: callers read through the state manager.
    const addr = (ADDRS[0] as string).toLowerCase() as `0x${string}`
    expect(fast.accountNow(fast.head.header, addr)).not.toBeUndefined()
    expect(ref.accountNow(ref.head.header, addr)).toBeUndefined()
    // No shared read views: each read gets its own.
    expect(fast.stateAt(fast.head.header.stateRoot)).toBe(fast.stateAt(fast.head.header.stateRoot))
    expect(ref.stateAt(ref.head.header.stateRoot)).not.toBe(ref.stateAt(ref.head.header.stateRoot))
    // The decoder hands everything to @ethereumjs with the reference chain's Commons.
    expect(isReferenceCommon(ref.common)).toBe(true)
    expect(isReferenceCommon(fast.common)).toBe(false)
    const raw = (await ref.getBlockByNumber(1n))?.transactions[0]?.serialize() as Uint8Array
    expect(bytesToHex(decodeTransaction(raw, ref.common).hash())).toBe(
      bytesToHex(decodeTransaction(raw, fast.common).hash()),
    )
  })
})
