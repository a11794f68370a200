// The BFT engine has no import path of its own (issue 49): a proposal is checked by the chain's
// verifier, which shares the front door's bad-block cache. A block the front door refused (here:
// handed to every other node's `chain.processBlock` before the proposal reaches them) is answered
// invalid by each validator from the cache, without being executed again; the network moves on to
// the next round and commits another block at that height.
import type { ExecutedBlock } from '@cairn/chain'
import { bytesToHex, writerLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { afterEach, describe, expect, it } from 'vitest'
import { tamper } from '../../../chain/test/helpers.ts'
import { BftNetwork } from '../harness/bft-network.ts'
import { recordExecutions } from '../harness/chain-probes.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

describe('a bad block cached by the front door', () => {
  it('is refused by the BFT validators without executing it again', async () => {
    const invalid: { code: string; hash: unknown }[] = []
    const logger = writerLogger((_level, fields, msg) => {
      if (msg === 'proposed block is invalid') {
        invalid.push({ code: (fields.err as { code: string }).code, hash: fields.hash })
      }
    })
    net = await BftNetwork.create({ validators: 4, logger })
    const nodes = net.nodes
    const executions = nodes.map((n) => recordExecutions(n.chain))
    await net.start()
    expect(await net.runUntil(() => nodes.every((n) => n.chain.head.header.number >= 2n))).toBe(true)

    // The next proposal, whoever makes it, is a bad block (its state root tampered), which every
    // other node's front door has refused before the proposal reaches it.
    const target = Number(nodes[0]?.chain.head.header.number) + 1
    let bad: { block: Block; proposer: number; refused: unknown[] } | undefined
    for (const [i, n] of nodes.entries()) {
      const propose = n.engine.propose.bind(n.engine)
      n.engine.propose = async (parent, round) => {
        const built = await propose(parent, round)
        if (bad !== undefined || Number(built.block.header.number) !== target) return built
        const block = tamper(
          built.block,
          built.block.common,
          { stateRoot: new Uint8Array(32).fill(7) },
          { skipConsensusFormatValidation: true }, // a BFT header's extra data is longer than 32 bytes
        )
        bad = { block, proposer: i, refused: [] }
        for (const other of nodes) {
          if (other !== n) bad.refused.push(await other.chain.processBlock(block, { source: 'gossip', peer: 'p' }))
        }
        // The proposer keeps its own (untampered) execution under the tampered block.
        return { ...built, block } as typeof built & ExecutedBlock
      }
    }
    expect(await net.runUntil(() => nodes.every((n) => n.chain.head.header.number >= BigInt(target)))).toBe(true)
    if (bad === undefined) throw new Error('no proposal at the target height')
    const { block, proposer } = bad
    const hash = bytesToHex(block.hash())
    for (const r of bad.refused) {
      expect(r).toMatchObject({ status: 'error', error: { code: 'CHAIN_EXECUTION_MISMATCH', action: 'reject' } })
    }

    const others = nodes.filter((n) => n.index !== proposer)
    // Each validator answered the proposal invalid from the bad-block cache...
    const refusedByCache = invalid.filter((e) => e.hash === hash)
    expect(refusedByCache).toHaveLength(others.length)
    for (const e of refusedByCache) expect(e.code).toBe('CHAIN_BLOCK_KNOWN_BAD')
    // ...and executed it once only: in its front door.
    const runs = (executed: Block[]) => executed.filter((b) => bytesToHex(b.hash()) === hash).length
    for (const n of others) expect(runs(executions[n.index] as Block[])).toBe(1)
    // The height was decided in a later round, on another block, the same on every node.
    const committed = nodes.map((n) => n.chain.getCanonicalHash(BigInt(target)))
    const hashes = (await Promise.all(committed)).map((h) => bytesToHex(h as Uint8Array))
    expect(new Set(hashes).size).toBe(1)
    expect(hashes[0]).not.toBe(hash)
  })
})
