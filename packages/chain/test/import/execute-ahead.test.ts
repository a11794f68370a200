// processBlock's `next`: the child block is executed while its parent commits and that result is
// used once the child passes its own checks. Differential: a chain imported with `next` leaves
// the store exactly as one imported block by block without it, with the same outcome for every
// block, valid or not (a tampered state root fails the parent's or the child's execution ahead),
// and a chain of valid blocks is executed once per block. On LevelDB, whose batch writes complete
// on libuv's thread pool in the middle of the child's execution (an in-memory store's complete at
// once, before it starts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type KVStore, LevelKV } from '@cairn/db'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import fc from 'fast-check'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { Chain, devGenesis, type ProcessResult } from '../../src/index.ts'
import { ADDRS, buildAndImport, dumpKV, KEYS, openChain, tamper, testEngine, transfer } from '../helpers.ts'

const RECIPIENTS = [0xa1, 0xa2, 0xa3, 0xa4].map((b) => `0x${b.toString(16).repeat(20)}` as Hex)

const root = mkdtempSync(join(tmpdir(), 'cairn-execute-ahead-'))
const opened: LevelKV[] = []
afterAll(async () => {
  await Promise.all(opened.map((kv) => kv.close()))
  rmSync(root, { recursive: true, force: true })
})

async function fresh(): Promise<{ chain: Chain; kv: KVStore }> {
  const kv = new LevelKV({ path: mkdtempSync(join(root, 'db-')), cacheSize: 1 << 20, writeBufferSize: 1 << 20 })
  await kv.open()
  opened.push(kv)
  const chain = await Chain.open(
    { genesis: devGenesis({ accounts: ADDRS }) },
    { kv, engine: testEngine, logger: silentLogger, metrics: null },
  )
  return { chain, kv }
}

/** Blocks of transfers from the first three keys to a few addresses, built on a source chain. */
async function chainOf(plan: { from: number; to: number; value: number }[][]): Promise<Block[]> {
  const source = await openChain()
  const nonces = new Map<number, bigint>()
  const blocks: Block[] = []
  for (const txs of plan) {
    const built = txs.map((t) => {
      const nonce = nonces.get(t.from) ?? 0n
      nonces.set(t.from, nonce + 1n)
      return transfer(source.common, KEYS[t.from] as Uint8Array, nonce, RECIPIENTS[t.to] as Hex, BigInt(t.value))
    })
    blocks.push((await buildAndImport(source, built)).block)
  }
  return blocks
}

const outcome = (r: ProcessResult) => (r.status === 'error' ? `error ${r.error.code}` : r.status)

describe('processBlock with next (execution ahead)', () => {
  it('leaves the store and every outcome as importing block by block does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.record({ from: fc.nat(2), to: fc.nat(3), value: fc.nat(1000) }), { maxLength: 4 }), {
          minLength: 2,
          maxLength: 6,
        }),
        fc.option(fc.nat(5), { nil: undefined }),
        fc.constantFrom('sync' as const, 'file' as const),
        async (plan, badAt, source) => {
          const blocks = await chainOf(plan)
          expect(blocks.map((b) => b.transactions.length)).toEqual(plan.map((txs) => txs.length))
          // A block with a state root its execution does not reach (its child then has no parent).
          if (badAt !== undefined && badAt < blocks.length) {
            const b = blocks[badAt] as Block
            blocks[badAt] = tamper(b, b.common, { stateRoot: `0x${'ab'.repeat(32)}` })
          }
          const plain = await fresh()
          const ahead = await fresh()
          // how far below each executed block the head was when its execution began
          const below: number[] = []
          const original = chainParts(ahead.chain).executor.execute.bind(chainParts(ahead.chain).executor)
          vi.spyOn(chainParts(ahead.chain).executor, 'execute').mockImplementation((block, parent, checks) => {
            below.push(Number(block.header.number - ahead.chain.head.header.number))
            return original(block, parent, checks)
          })
          const plainOutcomes: string[] = []
          const aheadOutcomes: string[] = []
          for (const [i, block] of blocks.entries()) {
            plainOutcomes.push(outcome(await plain.chain.processBlock(block, { source })))
            const next = blocks[i + 1]
            aheadOutcomes.push(outcome(await ahead.chain.processBlock(block, { source, ...(next ? { next } : {}) })))
          }
          expect(aheadOutcomes).toEqual(plainOutcomes)
          expect(bytesToHex(ahead.chain.head.hash())).toBe(bytesToHex(plain.chain.head.hash()))
          expect(await dumpKV(ahead.kv)).toEqual(await dumpKV(plain.kv))
          // Valid blocks: one execution each, every child's while its parent was not yet the head.
          if (badAt === undefined || badAt >= blocks.length)
            expect(below).toEqual(blocks.map((_, i) => (i === 0 ? 1 : 2)))
          else expect(plainOutcomes[badAt]).toMatch(/^error /)
        },
      ),
      { numRuns: 25 },
    )
    // CPU work (25 chains built and imported twice): 28–33 s on a 2-core machine at load 16–24
  }, 120_000)

  it("a sibling imported between a block and its child does not take the child's result", async () => {
    const [b1, b2] = (await chainOf([[{ from: 0, to: 0, value: 1 }], [{ from: 1, to: 1, value: 2 }]])) as [Block, Block]
    const [, sibling] = (await chainOf([[{ from: 0, to: 0, value: 1 }], [{ from: 2, to: 2, value: 3 }]])) as [
      Block,
      Block,
    ]
    expect(bytesToHex(sibling.header.parentHash)).toBe(bytesToHex(b1.hash()))
    expect(b2.transactions.length).toBe(1)
    expect(sibling.transactions.length).toBe(1)
    const { chain } = await fresh()
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    expect((await chain.processBlock(b1, { source: 'sync', next: b2 })).status).toBe('imported')
    expect((await chain.processBlock(sibling, { source: 'gossip' })).status).toBe('imported')
    expect((await chain.processBlock(b2, { source: 'sync' })).status).toBe('imported')
    // b1, b2 ahead, the sibling, b2 again (the result ahead was forgotten when the sibling imported)
    expect(execute).toHaveBeenCalledTimes(4)
    const roots = await Promise.all([sibling, b2].map((b) => chain.getHeader(b.hash())))
    expect(roots.map((h) => bytesToHex(h?.stateRoot as Uint8Array))).toEqual(
      [sibling, b2].map((b) => bytesToHex(b.header.stateRoot)),
    )
  })
})
