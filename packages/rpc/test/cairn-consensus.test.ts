import { silentLogger } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { openChain } from '../../chain/test/helpers.ts'
import { BftNetwork, type BftNode } from '../../consensus/test/harness/bft-network.ts'
import { ALL_METHODS, DEFAULT_RPC_LIMITS, NO_NETWORK, type RpcContext, RpcDispatcher } from '../src/index.ts'

function rpcOf(ctx: RpcContext) {
  const d = new RpcDispatcher({ dev: false }, { ctx, methods: ALL_METHODS, metrics: null, logger: silentLogger })
  return async (method: string, params: unknown[] = []) =>
    (await d.handle({ jsonrpc: '2.0', id: 1, method, params })) as { result?: unknown; error?: { message: string } }
}

function contextOf(node: BftNode): RpcContext {
  return {
    chain: node.chain,
    pool: node.pool,
    producer: node.engine,
    consensus: node.engine,
    network: NO_NETWORK,
    clientVersion: 'cairn/test',
    limits: DEFAULT_RPC_LIMITS,
    logger: silentLogger,
    dev: null,
  } as unknown as RpcContext
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
  })
})
