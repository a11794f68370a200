import { bytesToHex } from '@cairn/utils'
import { createBlockFromBytesArray } from '@ethereumjs/block'
import { afterEach, describe, expect, it } from 'vitest'
import { cairnError, KEYS, transfer } from '../../../chain/test/helpers.ts'
import { PowErrorCode, proofValue, sealParamsOfSeedHash, withSeal, workOf } from '../../src/pow/index.ts'
import { COINBASE, findSeal, hexBytes, mineVia, powSetup, stopAllPow, testParams } from './pow-setup.ts'

afterEach(stopAllPow)

const MINER_REWARD = 2n * 10n ** 18n

describe('PoW engine: the work API', () => {
  it('hands out work on the head and commits a submitted seal, paying reward and fees to the coinbase', async () => {
    const s = await powSetup()
    const tx = transfer(s.chain.common, KEYS[0] as Uint8Array, 0n, `0x${'be'.repeat(20)}`, 1n)
    await s.pool.add(tx, { source: 'local' })
    s.clock.now += 1
    const [hash, seed, boundary, number] = await s.engine.getWork()
    expect(number).toBe('0x1')
    expect(sealParamsOfSeedHash(hexBytes(seed))).toEqual(testParams().seal)
    expect(BigInt(boundary)).toBe(s.engine.targetOn(s.chain.head))
    const seal = await findSeal(hexBytes(hash), BigInt(boundary))
    expect(await s.engine.submitWork(seal.nonce, hexBytes(hash), seal.mixHash)).toBe(true)
    const head = s.chain.head
    expect(head.header.number).toBe(1n)
    expect(bytesToHex(head.header.mixHash)).toBe(bytesToHex(seal.mixHash))
    expect(head.transactions.length).toBe(1)
    expect(head.header.difficulty).toBe(workOf(BigInt(boundary)))
    const account = await s.chain.stateAt(head.header.stateRoot).getAccount({ bytes: COINBASE } as never)
    const tip = 10n ** 9n * 21_000n
    expect(account?.balance).toBe(MINER_REWARD + tip)
    const text = await s.registry.metrics()
    expect(text).toMatch(/cairn_pow_blocks_mined_total\{coinbase="0xc0c1[0-9a-f]+"\} 1/)
    expect(text).toMatch(/cairn_pow_rewards_ether_total\{coinbase="0xc0c1[0-9a-f]+"\} 2\.000021/)
  })

  it('refuses stale, unknown, insufficient and forged work, each with its own code, writing nothing', async () => {
    const s = await powSetup()
    s.clock.now += 1
    const [hash, , boundary] = await s.engine.getWork()
    const seal = await findSeal(hexBytes(hash), BigInt(boundary))
    // Above the target: all ones.
    const high = await cairnError(s.engine.submitWork(seal.nonce, hexBytes(hash), new Uint8Array(32).fill(0xff)))
    expect(high.code).toBe(PowErrorCode.INSUFFICIENT_WORK)
    // Below the target but not the proof of this nonce.
    const forged = new Uint8Array(32)
    forged[31] = 1
    const bad = await cairnError(s.engine.submitWork(seal.nonce, hexBytes(hash), forged))
    expect(bad.code).toBe(PowErrorCode.INVALID_SEAL)
    const unknown = await cairnError(s.engine.submitWork(seal.nonce, new Uint8Array(32).fill(7), seal.mixHash))
    expect(unknown.code).toBe(PowErrorCode.UNKNOWN_WORK)
    expect(s.chain.head.header.number).toBe(0n)
    expect(await s.engine.submitWork(seal.nonce, hexBytes(hash), seal.mixHash)).toBe(true)
    const stale = await cairnError(s.engine.submitWork(seal.nonce, hexBytes(hash), seal.mixHash))
    expect(stale.code).toBe(PowErrorCode.STALE_WORK)
    expect(s.chain.head.header.number).toBe(1n)
    const text = await s.registry.metrics()
    expect(text).toContain('cairn_pow_stale_work_total{source="external"} 1')
    for (const reason of ['stale', 'unknown', 'invalid_seal', 'insufficient_work']) {
      expect(text).toContain(`cairn_pow_rejected_work_total{reason="${reason}"} 1`)
    }
  })

  it('counts external hash rate for ten seconds', async () => {
    const s = await powSetup()
    expect(s.engine.submitHashrate(500n, new Uint8Array(32).fill(1))).toBe(true)
    expect(s.engine.hashRate()).toBe(500n)
    s.clock.now += 11
    expect(s.engine.hashRate()).toBe(0n)
    expect(s.engine.isMining()).toBe(false)
  })
})

describe('PoW engine: importing blocks', () => {
  it('imports a peer’s block and refuses a wrong seal, a wrong difficulty and a future timestamp', async () => {
    const a = await powSetup()
    const b = await powSetup()
    const mined = await mineVia(a)
    b.clock.now = a.clock.now
    const ok = await b.chain.processBlock(mined.serialize(), { source: 'gossip', peer: 'p' })
    expect(ok.status).toBe('imported')

    const next = await mineVia(a)
    // A forged proof below the target.
    const raw = next.raw()
    const forged = new Uint8Array(32)
    forged[31] = 1
    const badSeal = withSeal(next.header, { mixHash: forged, nonce: next.header.nonce })
    const r1 = await b.chain.processBlock(
      createBlockFromBytesArray([badSeal.raw(), ...raw.slice(1)] as never, { common: next.common }).serialize(),
      { source: 'gossip', peer: 'p' },
    )
    expect(r1.status).toBe('error')
    if (r1.status === 'error') {
      expect(r1.error.code).toBe(PowErrorCode.INVALID_SEAL)
      expect(r1.error.penalize).toBe(true)
    }
    expect(b.chain.head.header.number).toBe(1n)
    expect(
      bytesToHex(
        (
          (await b.chain.processBlock(next.serialize(), { source: 'gossip', peer: 'p' })) as {
            block: { hash(): Uint8Array }
          }
        ).block.hash(),
      ),
    ).toBe(bytesToHex(next.hash()))
    expect(b.chain.head.header.number).toBe(2n)
  })

  it('refuses a header claiming another difficulty than ASERT gives, and one too far in the future', async () => {
    const a = await powSetup()
    const b = await powSetup()
    a.clock.now += 1
    const built = await a.engine.propose(a.chain.head)
    const target = a.engine.targetOn(a.chain.head)
    // Same block, difficulty doubled: the seal is made for it, the rule refuses it.
    const raw = built.block.header.raw()
    raw[7] = hexBytes(`0x${(built.block.header.difficulty * 2n).toString(16)}`)
    const { createBlockHeaderFromBytesArray } = await import('@ethereumjs/block')
    const header = createBlockHeaderFromBytesArray(raw, {
      common: built.block.common,
      skipConsensusFormatValidation: true,
    })
    const { sealHash } = await import('../../src/pow/index.ts')
    const seal = await findSeal(sealHash(header), target / 2n)
    const block = createBlockFromBytesArray([withSeal(header, seal).raw(), ...built.block.raw().slice(1)] as never, {
      common: built.block.common,
    })
    b.clock.now = a.clock.now
    const r = await b.chain.processBlock(block.serialize(), { source: 'gossip', peer: 'p' })
    expect(r.status === 'error' && r.error.code).toBe(PowErrorCode.WRONG_DIFFICULTY)

    // A block sealed an hour ahead of the importer's clock.
    a.clock.now += 3600
    const future = await mineVia(a, a.clock.now)
    const f = await b.chain.processBlock(future.serialize(), { source: 'gossip', peer: 'p' })
    expect(f.status).toBe('error')
    if (f.status === 'error') {
      expect(f.error.code).toBe(PowErrorCode.TIMESTAMP_FUTURE)
      expect(f.error.penalize).toBe(false)
    }
    expect(b.chain.head.header.number).toBe(0n)
    expect(proofValue(future.header.mixHash) <= target * 2n).toBe(true)
  })
})

describe('PoW engine: fork choice and the reorg limit', () => {
  /** Mines `n` blocks on `s`, one spacing apart. */
  async function mineN(s: Awaited<ReturnType<typeof powSetup>>, n: number) {
    const out = []
    for (let i = 0; i < n; i++) out.push(await mineVia(s))
    return out
  }

  it('switches to a heavier branch within the limit: newHeads re-emitted, the dropped transactions back in the pool', async () => {
    const a = await powSetup()
    const b = await powSetup({ extraData: new TextEncoder().encode('branch b') })
    const tx = transfer(a.chain.common, KEYS[1] as Uint8Array, 0n, `0x${'be'.repeat(20)}`, 5n)
    await a.pool.add(tx, { source: 'local' })
    const mineA = await mineN(a, 2)
    expect(mineA[0]?.transactions.length).toBe(1)
    const branch = await mineN(b, 3)
    const reorgs: number[] = []
    a.chain.events.on('reorg', ({ removed }) => reorgs.push(removed.length))
    const heads: bigint[] = []
    a.chain.events.on('newHead', ({ block }) => heads.push(block.header.number))
    a.clock.now = b.clock.now
    for (const blk of branch) await a.chain.processBlock(blk.serialize(), { source: 'gossip', peer: 'b' })
    expect(bytesToHex(a.chain.head.hash())).toBe(bytesToHex((branch[2] as { hash(): Uint8Array }).hash()))
    expect(reorgs).toEqual([2])
    expect(heads).toEqual([1n, 2n, 3n])
    // The reverted transaction is pending again and its receipt gone from the canonical chain.
    await a.engine.stop()
    expect(a.pool.get(tx.hash())).toBeDefined()
    expect(await a.chain.getTxLocation(tx.hash())).toBeUndefined()
    expect(await a.registry.metrics()).toContain('cairn_pow_reorgs_total{depth="2"} 1')
  })

  it('refuses a heavier branch deeper than the limit, with a metric and a log line, until the branch is accepted', async () => {
    const warnings: string[] = []
    const logger = {
      ...(await import('@cairn/utils')).silentLogger,
      warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)),
    }
    logger.child = () => logger
    const a = await powSetup({ maxReorgDepth: 2, logger: logger as never })
    const b = await powSetup({ extraData: new TextEncoder().encode('branch b') })
    await mineN(a, 3)
    const branch = await mineN(b, 5)
    a.clock.now = b.clock.now
    for (const blk of branch.slice(0, 4)) await a.chain.processBlock(blk.serialize(), { source: 'gossip', peer: 'b' })
    expect(a.chain.head.header.number).toBe(3n)
    expect(bytesToHex(a.chain.head.hash())).not.toBe(bytesToHex((branch[2] as { hash(): Uint8Array }).hash()))
    expect(await a.registry.metrics()).toContain('cairn_pow_reorgs_refused_total 1')
    expect(warnings.some((w) => w.includes('reorg limit'))).toBe(true)
    await a.engine.acceptBranch((branch[3] as { hash(): Uint8Array }).hash())
    await a.chain.processBlock((branch[4] as { serialize(): Uint8Array }).serialize(), { source: 'gossip', peer: 'b' })
    expect(bytesToHex(a.chain.head.hash())).toBe(bytesToHex((branch[4] as { hash(): Uint8Array }).hash()))
  })
})
