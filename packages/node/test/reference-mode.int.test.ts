// `--reference` on a real node: the same workload (a token deployed, transfers of ether and
// tokens, views read) sent to a node as it runs and to one in reference mode gives the same
// answers, and the reference node takes none of the RPC's shortcuts (the fast lane, the call
// cache, the view interpreter: their counters stay at 0 where the other node's move).
import { silentLogger } from '@cairn/utils'
import { createPublicClient, createWalletClient, encodeDeployData, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.ts'
import { type StartedNode, startNode } from '../src/node.ts'
import { compileContracts, tokenAbi } from './e2e/contracts.ts'
import { devAccount, devChain } from './e2e/helpers.ts'

const OWNER = devAccount(0)
const OTHER = devAccount(1)
const nodes: { fast?: StartedNode; reference?: StartedNode } = {}

async function open(reference: boolean): Promise<StartedNode> {
  const flags = {
    dev: true,
    ephemeral: true,
    'http.port': 0,
    'http.addr': '127.0.0.1',
    'log.level': 'silent',
    reference,
  }
  return startNode(loadConfig({ flags, env: {} }), { logger: silentLogger })
}

/** A counter's value from /metrics (0 when the labelled series is absent). */
async function counter(node: StartedNode, name: string, label: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

/** The workload; returns what the node answered along the way. */
async function workload(node: StartedNode): Promise<unknown[]> {
  const transport = http(node.url, { retryCount: 0 })
  const pub = createPublicClient({ chain: devChain, transport, cacheTime: 0 })
  const wallet = createWalletClient({ account: privateKeyToAccount(OWNER.privateKey), chain: devChain, transport })
  const { Token } = compileContracts()
  const deployed = await pub.waitForTransactionReceipt({
    hash: await wallet.sendTransaction({
      data: encodeDeployData({ abi: tokenAbi, bytecode: Token.bytecode, args: ['T', 'T', 10n ** 24n] }),
    }),
  })
  const token = deployed.contractAddress as Hex
  const answers: unknown[] = [deployed.status, deployed.gasUsed]
  for (let i = 1n; i <= 3n; i++) {
    const a = await wallet.sendTransaction({ to: OTHER.address, value: parseEther('1') * i })
    const b = await wallet.writeContract({
      address: token,
      abi: tokenAbi,
      functionName: 'transfer',
      args: [OTHER.address, 1000n * i],
    })
    for (const hash of [a, b]) {
      const r = await pub.waitForTransactionReceipt({ hash })
      answers.push(
        r.status,
        r.gasUsed,
        r.logs.map((l) => l.data),
      )
    }
    // Twice: the second is the call cache's on the node that keeps one.
    for (let k = 0; k < 2; k++) {
      answers.push(
        await pub.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [OTHER.address] }),
      )
    }
    answers.push(await pub.getBalance({ address: OTHER.address }))
    answers.push(await pub.getBlockNumber())
  }
  answers.push(
    await pub.estimateGas({ account: OWNER.address, to: OTHER.address, value: 1n }),
    await pub.getStorageAt({ address: token, slot: '0x2' }),
  )
  return answers
}

beforeAll(async () => {
  nodes.fast = await open(false)
  nodes.reference = await open(true)
}, 60_000)

afterAll(async () => {
  await Promise.all([nodes.fast?.close(), nodes.reference?.close()])
})

describe('cairn start --reference', () => {
  it('answers as the node with its shims, taking none of them', async () => {
    const fast = nodes.fast as StartedNode
    const reference = nodes.reference as StartedNode
    expect(fast.chain.reference).toBe(false)
    expect(reference.chain.reference).toBe(true)
    expect(await workload(reference)).toEqual(await workload(fast))
    const shortcuts = [
      ['cairn_rpc_fast_lane_requests_total', 'outcome="answered"'],
      ['cairn_rpc_call_cache_requests_total', 'result="hit"'],
      ['cairn_rpc_view_calls_total', 'path="interpreter"'],
    ] as const
    for (const [name, label] of shortcuts) {
      expect(await counter(fast, name, label), `${name}{${label}} on the node with shims`).toBeGreaterThan(0)
      expect(await counter(reference, name, label), `${name}{${label}} in reference mode`).toBe(0)
    }
  }, 120_000)
})
