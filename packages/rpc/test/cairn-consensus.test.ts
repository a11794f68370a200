import { decodeBftExtra, encodeWire, MsgType, signDigest, voteDigest } from '@cairn/consensus'
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { openChain } from '../../chain/test/helpers.ts'
import { BftNetwork, type BftNode, validatorKey } from '../../consensus/test/harness/bft-network.ts'
import { ALL_METHODS, DEFAULT_RPC_LIMITS, NO_NETWORK, type RpcContext, RpcDispatcher } from '../src/index.ts'
import { testContext } from './test-context.ts'

function rpcOf(ctx: RpcContext) {
  const d = new RpcDispatcher({ dev: false }, { ctx, methods: ALL_METHODS, metrics: null, logger: silentLogger })
  return async (method: string, params: unknown[] = []) =>
    (await d.handle({ jsonrpc: '2.0', id: 1, method, params })) as { result?: unknown; error?: { message: string } }
}

function contextOf(node: BftNode): RpcContext {
  return testContext({
    chain: node.chain,
    pool: node.pool,
    producer: node.engine,
    consensus: node.engine,
  } as Parameters<typeof testContext>[0])
}

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

describe('cairn_getCommit and cairn_getValidators', () => {
  it('answer the certificate (signers by address) and the validator set; finalized and safe follow commits', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.height(0) >= 3n)).toBe(true)
    const node = net.nodes[0] as BftNode
    const rpc = rpcOf(contextOf(node))
    const addresses = node.engine.validatorsAt(2).validators.map((v) => `0x${Buffer.from(v.address).toString('hex')}`)

    const commit = (await rpc('cairn_getCommit', ['0x2'])).result as {
      height: string
      blockHash: string
      signatures: { validator: string; signature: string }[]
    }
    const block2 = (await rpc('eth_getBlockByNumber', ['0x2', false])).result as { hash: string }
    expect(commit.height).toBe('0x2')
    expect(commit.blockHash).toBe(block2.hash)
    expect(commit.signatures.length).toBeGreaterThanOrEqual(3)
    for (const s of commit.signatures) expect(addresses).toContain(s.validator)
    // Block 3 is in: the answer is the certificate it carries (late precommits included), not the
    // first 2/3 stored at the commit.
    const block3 = (await node.chain.getBlockByNumber(3n))?.header.extraData as Uint8Array
    const carried = decodeBftExtra(block3).parentCertificate
    expect(commit.signatures.map((s) => s.signature)).toEqual(carried?.signatures.map((s) => bytesToHex(s.signature)))

    const validators = (await rpc('cairn_getValidators', ['0x2'])).result as {
      totalVotingPower: string
      validators: { address: string; votingPower: string }[]
    }
    expect(validators.totalVotingPower).toBe('0x28')
    expect(validators.validators.map((v) => v.address)).toEqual(addresses)

    const head = (await rpc('eth_getBlockByNumber', ['latest', false])).result as { hash: string; number: string }
    const finalized = (await rpc('eth_getBlockByNumber', ['finalized', false])).result as { hash: string }
    const safe = (await rpc('eth_getBlockByNumber', ['safe', false])).result as { hash: string }
    expect(finalized.hash).toBe(head.hash)
    expect(safe.hash).toBe(head.hash)
    expect((await rpc('cairn_getCommit', ['0x0'])).result).toBeNull()
    expect((await rpc('cairn_getCommit', ['0x2', 'extra'])).error?.message).toMatch(/too many|invalid/i)
  }, 60_000)

  it('cairn_getValidators on a chain without a BFT engine is an error; cairn_getCommit is null', async () => {
    const chain = await openChain()
    const rpc = rpcOf({
      chain,
      network: NO_NETWORK,
      limits: DEFAULT_RPC_LIMITS,
      logger: silentLogger,
      dev: null,
    } as never)
    expect((await rpc('cairn_getValidators', ['latest'])).error?.message).toMatch(/no validator set/)
    expect((await rpc('cairn_getCommit', ['latest'])).result).toBeNull()
    expect((await rpc('cairn_getEvidence', ['latest'])).error?.message).toMatch(/no validator set/)
  })
})

describe('cairn_getEvidence', () => {
  it('answers the duplicate-vote evidence a block carries, decoded; [] for a block without', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.height(0) >= 2n)).toBe(true)
    const node = net.nodes[0] as BftNode
    const rpc = rpcOf(contextOf(node))
    // Validator 3's key in a second signer: a prevote for another block in node 0's round.
    const { height, round } = node.engine.snapshot() as { height: number; round: number }
    const vote = { type: MsgType.PREVOTE, height, round, blockHash: keccak256(Uint8Array.of(7, 7)) }
    const second = { ...vote, signature: signDigest(voteDigest(1337n, vote), validatorKey(3)) }
    expect(await net.deliver(0, encodeWire({ kind: 'vote', vote: second }, 0))).toBe('accept')
    const addr3 = bytesToHex((net.nodes[3] as BftNode).engine.address as Uint8Array)
    const committed = () =>
      node.engine.evidence.has(
        (net!.nodes[3] as BftNode).engine.address as Uint8Array,
        height,
        round,
        MsgType.PREVOTE,
      ) && node.engine.evidence.size === 0
    expect(await net.runUntil(committed, 60_000)).toBe(true)
    const found: { number: number; evidence: Record<string, unknown>[] }[] = []
    for (let h = 1; h <= Number(node.chain.head.header.number); h++) {
      const r = await rpc('cairn_getEvidence', [`0x${h.toString(16)}`])
      expect(r.error).toBeUndefined()
      const list = r.result as Record<string, unknown>[]
      if (list.length > 0) found.push({ number: h, evidence: list })
    }
    expect(found.length).toBe(1)
    const [entry] = (found[0] as (typeof found)[number]).evidence as [Record<string, unknown>]
    expect(entry).toMatchObject({
      type: 'duplicateVote',
      validator: addr3,
      height: `0x${height.toString(16)}`,
      round: `0x${round.toString(16)}`,
      voteType: 'prevote',
    })
    const pair = entry.blockHashes as (string | null)[]
    expect(pair).toContain(bytesToHex(vote.blockHash))
    expect(pair[0]).not.toBe(pair[1])
    // By hash too; the genesis carries none; the params are schema-checked.
    const hash = (
      (await rpc('eth_getBlockByNumber', [`0x${(found[0] as { number: number }).number.toString(16)}`, false]))
        .result as { hash: string }
    ).hash
    expect((await rpc('cairn_getEvidence', [hash])).result).toEqual(found[0]?.evidence)
    expect((await rpc('cairn_getEvidence', ['0x0'])).result).toEqual([])
    expect((await rpc('cairn_getEvidence', [])).error?.message).toMatch(/missing value/)
    expect((await rpc('cairn_getEvidence', ['0x1', 'extra'])).error?.message).toMatch(/too many|invalid/i)
  }, 60_000)
})
