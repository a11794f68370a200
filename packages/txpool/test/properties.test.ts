import { type Chain, devGenesis } from '@cairn/chain'
import type { Hex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, privateToAddress } from '@ethereumjs/util'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildAndImport, openChain } from '../../chain/test/helpers.ts'
import { effectiveTip, type TxPool } from '../src/index.ts'
import { GWEI, poolOn } from './helpers.ts'

const KEYS = [0x41, 0x42, 0x43, 0x44].map((b) => Uint8Array.from(Buffer.alloc(32, b)))
const ADDRESSES = KEYS.map((k) => bytesToHex(privateToAddress(k)) as Hex)
const TO = '0x000000000000000000000000000000000000dead' as Hex
/** Small balances so that "insufficient funds" and unpayable-after-a-block happen. */
const BALANCE = 10n ** 16n
const LIMITS = { globalSlots: 3, globalQueue: 3, accountSlots: 2, accountQueue: 3, minTip: 0n }

type Op =
  | { kind: 'add'; sender: number; nonce: number; tip: number; cap: number; value: number }
  | { kind: 'block' }
  | { kind: 'reorg' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      sender: fc.integer({ min: 0, max: 3 }),
      nonce: fc.integer({ min: 0, max: 6 }),
      tip: fc.integer({ min: 0, max: 4 }),
      cap: fc.integer({ min: 0, max: 4 }),
      value: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('block' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reorg' as const) }) },
)

function sign(chain: Chain, op: Extract<Op, { kind: 'add' }>): TypedTransaction {
  const tip = BigInt(op.tip) * GWEI
  return createFeeMarket1559Tx(
    {
      nonce: BigInt(op.nonce),
      to: TO,
      // up to 0.001 ETH: with 21000 gas × up to 5 gwei, two or three txs exhaust the balance
      value: BigInt(op.value) * 5n * 10n ** 14n,
      gasLimit: 21000n,
      maxFeePerGas: tip + BigInt(op.cap) * GWEI,
      maxPriorityFeePerGas: tip,
    },
    { common: chain.common },
  ).sign(KEYS[op.sender] as Uint8Array)
}

/** Every invariant the pool promises, checked against the chain's state at the head. */
async function checkInvariants(chain: Chain, pool: TxPool): Promise<void> {
  const state = chain.stateAt(chain.head.header.stateRoot)
  const { pending, queued } = await pool.content()
  let nPending = 0
  let nQueued = 0
  const seen = new Set<string>()
  for (const addr of ADDRESSES) {
    const key = addr.toLowerCase()
    const account = await state.getAccount(createAddressFromString(addr))
    const nonce = account?.nonce ?? 0n
    const p = pending.get(key) ?? []
    const q = queued.get(key) ?? []
    nPending += p.length
    nQueued += q.length
    // pending is contiguous from the account nonce
    for (const [i, tx] of p.entries()) expect(tx.nonce).toBe(nonce + BigInt(i))
    // never two transactions with the same sender and nonce; nothing stale
    for (const tx of [...p, ...q]) {
      expect(seen.has(`${key}/${tx.nonce}`)).toBe(false)
      seen.add(`${key}/${tx.nonce}`)
      expect(tx.nonce >= nonce).toBe(true)
    }
    // the account can pay for all its pooled transactions together
    const cost = [...p, ...q].reduce((sum, tx) => sum + tx.gasLimit * feeCap(tx) + tx.value, 0n)
    expect(cost <= (account?.balance ?? 0n)).toBe(true)
    expect(q.length <= LIMITS.accountQueue).toBe(true)
  }
  expect(pool.counts).toEqual({ pending: nPending, queued: nQueued })
  expect(pool.size).toBe(nPending + nQueued)
  expect(pool.slots.pending <= LIMITS.globalSlots).toBe(true)
  expect(pool.slots.queued <= LIMITS.globalQueue).toBe(true)
}

function feeCap(tx: TypedTransaction): bigint {
  return (tx as unknown as { maxFeePerGas: bigint }).maxFeePerGas
}

/** Builds the next block from the pool, checks its order, imports it and tells the pool. */
async function mineFromPool(chain: Chain, pool: TxPool): Promise<Block> {
  const parent = chain.head
  const baseFee = parent.header.calcNextBaseFee()
  const built = await chain.build(parent, { timestamp: parent.header.timestamp + 12n }, await pool.blockSource(baseFee))
  // everything offered could pay: nothing failed at execution
  expect(built.rejected).toEqual([])
  const txs = built.block.transactions
  // per sender in nonce order; each tx, when taken, had the best effective tip among the senders'
  // next transactions still to come
  const next = new Map<string, bigint>()
  for (const [i, tx] of txs.entries()) {
    const from = tx.getSenderAddress().toString()
    if (next.has(from)) expect(tx.nonce).toBe(next.get(from))
    next.set(from, tx.nonce + 1n)
    const later = txs.slice(i + 1)
    const firstOfOthers = new Map<string, TypedTransaction>()
    for (const t of later) {
      const f = t.getSenderAddress().toString()
      if (f !== from && !firstOfOthers.has(f)) firstOfOthers.set(f, t)
    }
    for (const t of firstOfOthers.values()) {
      expect(effectiveTip(t, baseFee) <= effectiveTip(tx, baseFee)).toBe(true)
    }
  }
  const result = await chain.committer.commit(built)
  expect(result.status).toBe('head')
  await pool.onNewHead(built.block, result.removed)
  return built.block
}

describe('pool invariants under random adds, new heads and reorgs', () => {
  let genesis: unknown
  beforeAll(() => {
    genesis = devGenesis({ accounts: ADDRESSES, balance: BALANCE })
  })

  it('hold after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) => {
        const chain = await openChain(undefined, genesis)
        const pool = poolOn(chain, LIMITS)
        for (const op of ops) {
          if (op.kind === 'add') {
            await pool.add(sign(chain, op), { source: 'local' }).catch(() => {})
          } else if (op.kind === 'block') {
            await mineFromPool(chain, pool)
          } else {
            // a competing branch from the head's parent, two empty blocks long, wins
            const head = chain.head
            if (head.header.number === 0n) continue
            const parent = await chain.getBlock(head.header.parentHash)
            if (!parent) continue
            const b1 = await buildAndImport(chain, [], { parent, timestamp: parent.header.timestamp + 13n })
            const b2 = await buildAndImport(chain, [], { parent: b1.block })
            expect(b2.result.status).toBe('head')
            await pool.onNewHead(b2.block, [...b1.result.removed, ...b2.result.removed])
          }
          await checkInvariants(chain, pool)
        }
        // whatever is pending can be mined, and mining drains it
        while (pool.hasExecutable(chain.head.header.calcNextBaseFee())) {
          const before = pool.counts.pending
          const block = await mineFromPool(chain, pool)
          expect(block.transactions.length).toBeGreaterThan(0)
          expect(pool.counts.pending <= before).toBe(true)
          await checkInvariants(chain, pool)
        }
      }),
      { numRuns: 40 },
    )
  }, 180_000)
})

describe('incremental admission (a run extended, a gapped transaction left queued)', () => {
  /** The pool's classification: each sender's pending and queued nonces. */
  async function classes(pool: TxPool): Promise<unknown> {
    const { pending, queued } = await pool.content()
    const nonces = (m: Map<string, TypedTransaction[]>) =>
      [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, txs]) => [k, txs.map((t) => t.nonce)])
    return { pending: nonces(pending), queued: nonces(queued), counts: pool.counts, slots: pool.slots }
  }

  it('classifies as walking every sender at each admission does, nonces in any order', async () => {
    const genesis = devGenesis({ accounts: ADDRESSES, balance: 10n ** 20n })
    // Nonces 0..9 of 2 senders in random orders, with a block now and then; room for 6 pending.
    const addArb = fc.record({
      kind: fc.constant('add' as const),
      sender: fc.integer({ min: 0, max: 1 }),
      nonce: fc.integer({ min: 0, max: 9 }),
      tip: fc.integer({ min: 1, max: 3 }),
      cap: fc.constant(2),
      value: fc.constant(0),
    })
    const stepArb = fc.oneof(
      { weight: 8, arbitrary: addArb },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('block' as const) }) },
    )
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 40 }), async (steps) => {
        const chain = await openChain(undefined, genesis)
        const limits = { globalSlots: 6, globalQueue: 20, accountSlots: 16, accountQueue: 20, minTip: 0n }
        const fast = poolOn(chain, limits)
        const walking = poolOn(chain, limits)
        ;(walking as unknown as { incremental: boolean }).incremental = false
        for (const step of steps) {
          if (step.kind === 'add') {
            const tx = sign(chain, step)
            const a = await fast.add(tx, { source: 'remote' }).then(
              () => 'ok',
              (e: Error) => e.message,
            )
            const b = await walking.add(tx, { source: 'remote' }).then(
              () => 'ok',
              (e: Error) => e.message,
            )
            expect(a).toBe(b)
          } else {
            const block = await mineFromPool(chain, fast)
            await walking.onNewHead(block, [])
          }
          expect(await classes(fast)).toEqual(await classes(walking))
        }
      }),
      { numRuns: 60 },
    )
  }, 180_000)
})
