// Read threads (`--rpc.threads`, packages/node/src/rpc-threads/) answer what the main thread
// answers. Differential: random reads (fast-check) sent both to a read thread and to the main
// thread's dispatcher, between and during random block production — transfers, contract calls that
// log and store, empty blocks, anvil_reorg and anvil_rollback — must get identical answers,
// errors included. Reads pinned to a block number are also sent while the next block is being
// sealed. Then: a thread stopped with requests in flight answers them with -32603 and is restarted;
// HTTP reads reach the threads; shutdown stops them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deployer, EMITTER_RUNTIME, LOOP_RUNTIME, STORE_RUNTIME } from './bytecode.ts'
import { post, type StartedNode, startDevNode } from './live-node.ts'

const ACCOUNT_1 = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
const STRANGER = `0x${'42'.repeat(20)}`

let node: StartedNode
let dir: string
let nextId = 1
/** Contracts, block hashes and transaction hashes seen so far (old branches' included). */
const known = { contracts: [] as string[], blocks: [] as string[], txs: [] as string[] }

/** A JSON-RPC call on the main thread's dispatcher (writes, dev methods). */
async function main<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const text = await node.dispatcher.handleText(JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }))
  const r = JSON.parse(text ?? 'null') as { result?: T; error?: unknown }
  if (r.error) throw new Error(`${method}: ${JSON.stringify(r.error)}`)
  return r.result as T
}

/** The same body answered by a read thread and by the main thread. */
async function both(body: unknown): Promise<[string | undefined, string | undefined]> {
  const text = JSON.stringify(body)
  const threads = node.readThreads
  if (!threads) throw new Error('no read threads')
  const onThread = threads.handle({ value: body }, text)
  if (!onThread) throw new Error('no read thread ready')
  return Promise.all([onThread, node.dispatcher.handleText(text)])
}

async function headNumber(): Promise<bigint> {
  return BigInt(await main<string>('eth_blockNumber'))
}

async function mine(): Promise<void> {
  await main('evm_mine')
  const head = await main<{ hash: string }>('eth_getBlockByNumber', ['latest', false])
  known.blocks.push(head.hash)
}

async function sendTx(tx: Record<string, unknown>): Promise<void> {
  known.txs.push(await main<string>('eth_sendTransaction', [{ from: ACCOUNT_0, ...tx }]))
}

const hex = (n: bigint | number) => `0x${n.toString(16)}`

// --- random reads -------------------------------------------------------------------------------

const address = () => fc.constantFrom(ACCOUNT_0, ACCOUNT_1, STRANGER, ...known.contracts.slice(0, 2))
const blockRef = (height: bigint) =>
  fc.oneof(
    fc.constantFrom('latest', 'earliest', 'safe', 'finalized'),
    fc.bigInt({ min: 0n, max: height + 2n }).map(hex),
    fc.constantFrom(...known.blocks).map((blockHash) => ({ blockHash })),
    fc.constantFrom(...known.blocks).map((blockHash) => ({ blockHash, requireCanonical: true })),
  )
const slot = fc.bigInt({ min: 0n, max: 3n }).map((n) => `0x${n.toString(16).padStart(64, '0')}`)

function readRequest(height: bigint): fc.Arbitrary<{ method: string; params: readonly unknown[] }> {
  const ref = blockRef(height)
  const number = fc.bigInt({ min: 0n, max: height + 2n }).map(hex)
  const blockHash = fc.constantFrom(...known.blocks)
  const txHash = fc.constantFrom(...known.txs, `0x${'00'.repeat(32)}`)
  return fc.oneof(
    fc.constant({ method: 'eth_blockNumber', params: [] }),
    fc.constant({ method: 'eth_chainId', params: [] }),
    fc.tuple(address(), ref).map((p) => ({ method: 'eth_getBalance', params: p })),
    fc.tuple(address(), ref).map((p) => ({ method: 'eth_getTransactionCount', params: p })),
    fc.tuple(address(), ref).map((p) => ({ method: 'eth_getCode', params: p })),
    fc.tuple(address(), slot, ref).map((p) => ({ method: 'eth_getStorageAt', params: p })),
    fc.tuple(address(), fc.array(slot, { maxLength: 2 }), ref).map((p) => ({ method: 'eth_getProof', params: p })),
    fc
      .tuple(address(), fc.constantFrom('0x', '0x01', '0xdeadbeef'), fc.bigInt({ min: 0n, max: 5n }), ref)
      .map(([to, data, value, r]) => ({
        method: 'eth_call',
        params: [{ from: ACCOUNT_1, to, data, ...(value > 0n ? { value: hex(value) } : {}) }, r],
      })),
    fc.tuple(ref, fc.boolean()).map(([r, full]) => ({
      method: 'eth_getBlockByNumber',
      params: [typeof r === 'object' ? 'latest' : r, full],
    })),
    fc.tuple(blockHash, fc.boolean()).map((p) => ({ method: 'eth_getBlockByHash', params: p })),
    number.map((n) => ({ method: 'eth_getBlockTransactionCountByNumber', params: [n] })),
    fc.tuple(number, fc.nat(2).map(hex)).map((p) => ({ method: 'eth_getTransactionByBlockNumberAndIndex', params: p })),
    fc
      .tuple(blockHash, fc.nat(2).map(hex))
      .map((p) => ({ method: 'eth_getTransactionByBlockHashAndIndex', params: p })),
    txHash.map((h) => ({ method: 'eth_getTransactionReceipt', params: [h] })),
    fc.oneof(number, blockHash).map((b) => ({ method: 'eth_getBlockReceipts', params: [b] })),
    fc
      .tuple(fc.bigInt({ min: 0n, max: height + 1n }), fc.bigInt({ min: 0n, max: 4n }), fc.option(address()))
      .map(([from, span, addr]) => ({
        method: 'eth_getLogs',
        params: [{ fromBlock: hex(from), toBlock: hex(from + span), ...(addr ? { address: addr } : {}) }],
      })),
    // Invalid parameters: the same error from both.
    fc.constant({ method: 'eth_getBalance', params: ['0x1234', 'latest'] }),
  )
}

/** One random read (or a batch of 1–3), answered identically by a thread and the main thread. */
async function checkReads(runs: number): Promise<void> {
  const height = await headNumber()
  await fc.assert(
    fc.asyncProperty(
      fc.array(readRequest(height), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      async (reqs, batch) => {
        const body = batch
          ? reqs.map((r) => ({ jsonrpc: '2.0', id: nextId++, ...r }))
          : { jsonrpc: '2.0', id: nextId++, ...reqs[0] }
        const [onThread, onMain] = await both(body)
        expect(onThread).toBe(onMain)
      },
    ),
    { numRuns: runs },
  )
}

// --- random block production ------------------------------------------------------------------

type Step =
  | { kind: 'transfer'; to: string; value: number }
  | { kind: 'log' }
  | { kind: 'store'; value: number }
  | { kind: 'empty' }
  | { kind: 'reorg'; depth: number; txs: number }
  | { kind: 'rollback'; depth: number }
  /** A dev state edit without a block (anvil_setBalance): the threads must re-read the edited states. */
  | { kind: 'edit'; who: string; value: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('transfer' as const), to: fc.constantFrom(ACCOUNT_1, STRANGER), value: fc.nat(9) }),
  fc.constant({ kind: 'log' as const }),
  fc.record({ kind: fc.constant('store' as const), value: fc.nat(9) }),
  fc.constant({ kind: 'empty' as const }),
  fc.record({ kind: fc.constant('reorg' as const), depth: fc.integer({ min: 1, max: 3 }), txs: fc.nat(2) }),
  fc.record({ kind: fc.constant('rollback' as const), depth: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant('edit' as const), who: fc.constantFrom(ACCOUNT_1, STRANGER), value: fc.nat(9) }),
)

async function apply(s: Step): Promise<void> {
  const height = await headNumber()
  switch (s.kind) {
    case 'transfer':
      await sendTx({ to: s.to, value: hex(s.value) })
      return mine()
    case 'log':
      await sendTx({ to: known.contracts[0] })
      return mine()
    case 'store':
      await sendTx({ to: known.contracts[1], value: hex(s.value) })
      return mine()
    case 'empty':
      return mine()
    case 'reorg': {
      // The contracts' blocks (1–3) stay.
      const depth = Math.min(s.depth, Number(height) - 3)
      if (depth <= 0) return mine()
      const txs = Array.from({ length: s.txs }, (_, i) => [
        { from: ACCOUNT_1, to: i % 2 ? known.contracts[0] : ACCOUNT_0, value: i % 2 ? '0x0' : '0x3' },
        i % depth,
      ])
      await main('anvil_reorg', [depth, txs])
      const head = await main<{ hash: string; transactions: string[] }>('eth_getBlockByNumber', ['latest', false])
      known.blocks.push(head.hash)
      known.txs.push(...head.transactions)
      return
    }
    case 'rollback': {
      // Keep the contracts' blocks.
      const depth = Math.min(s.depth, Number(height) - 3)
      if (depth > 0) await main('anvil_rollback', [depth])
      return
    }
    case 'edit':
      await main('anvil_setBalance', [s.who, hex(10n ** 18n * BigInt(s.value + 1))])
      return
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-read-threads-'))
  node = await startDevNode(
    { evmTimeoutMs: 60_000 },
    // The hand-over mode (the main thread takes every request): read-listeners.int.test.ts tests the threads' own listeners.
    { flags: { ephemeral: false, datadir: dir, 'rpc.threads': 1, 'rpc.threadListeners': false } },
  )
  // The node does not wait for its threads to open the chain.
  await node.readThreads?.whenStarted()
  known.blocks.push(await main<{ hash: string }>('eth_getBlockByNumber', ['0x0', false]).then((b) => b.hash))
  await main('evm_setAutomine', [false])
  for (const runtime of [EMITTER_RUNTIME, STORE_RUNTIME, LOOP_RUNTIME]) {
    const hash = await main<string>('eth_sendTransaction', [{ from: ACCOUNT_0, data: deployer(runtime) }])
    await mine()
    known.contracts.push((await main<{ contractAddress: string }>('eth_getTransactionReceipt', [hash])).contractAddress)
    known.txs.push(hash)
  }
}, 120_000)

afterAll(async () => {
  await node?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('read threads', () => {
  it('answer random reads as the main thread does, across random blocks, reorgs and rollbacks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 4 }), async (steps) => {
        for (const s of steps) {
          await apply(s)
          await checkReads(10)
        }
      }),
      { numRuns: 10 },
    )
  }, 300_000)

  it('answer reads pinned to a block while the next block is being sealed', async () => {
    const height = await headNumber()
    await sendTx({ to: ACCOUNT_1, value: '0x1' })
    const reads = Array.from({ length: 20 }, (_, i) => {
      const n = hex(BigInt(i) % (height + 1n))
      return [
        { jsonrpc: '2.0', id: nextId++, method: 'eth_getBalance', params: [ACCOUNT_0, n] },
        { jsonrpc: '2.0', id: nextId++, method: 'eth_getBlockByNumber', params: [n, true] },
        { jsonrpc: '2.0', id: nextId++, method: 'eth_call', params: [{ to: known.contracts[1], value: '0x1' }, n] },
      ]
    })
    const sealing = mine()
    const answers = await Promise.all(reads.map(both))
    await sealing
    for (const [onThread, onMain] of answers) expect(onThread).toBe(onMain)
    expect(await headNumber()).toBe(height + 1n)
  }, 60_000)

  it('serve HTTP reads worth forwarding (counted per thread); cheap reads and writes stay on the main thread', async () => {
    const served = async () => {
      const metrics = await (await fetch(`${node.url}/metrics`)).text()
      expect(metrics).toMatch(/cairn_rpc_thread_up\{thread="1"\} 1/)
      return Number(/cairn_rpc_thread_requests_total\{thread="1"\} (\d+)/.exec(metrics)?.[1] ?? 0)
    }
    const before = await served()
    const callReq = [{ to: known.contracts[1], value: '0x2' }, 'latest']
    const called = await post(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: callReq })
    expect(called.json).toEqual({ jsonrpc: '2.0', id: 1, result: await main('eth_call', callReq) })
    expect(await served()).toBe(before + 1)
    const balance = await post(node.url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getBalance',
      params: [ACCOUNT_1, 'latest'],
    })
    expect(balance.json).toEqual({ jsonrpc: '2.0', id: 1, result: await main('eth_getBalance', [ACCOUNT_1, 'latest']) })
    expect(await served()).toBe(before + 1)
    // `pending` and writes are the main thread's (the pool lives there).
    const pending = await post(node.url, {
      jsonrpc: '2.0',
      id: 2,
      method: 'eth_getTransactionCount',
      params: [ACCOUNT_0, 'pending'],
    })
    expect(pending.json).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: await main('eth_getTransactionCount', [ACCOUNT_0, 'pending']),
    })
    expect(await served()).toBe(before + 1)
  })

  it('answer the requests in flight of a thread that stops with -32603 and restart it', async () => {
    const threads = node.readThreads
    if (!threads) throw new Error('no read threads')
    const restarted = new Promise((resolve) => threads.once('ready', resolve))
    // An endless loop keeps the call in flight (the EVM time limit is a minute here) until the thread stops.
    const body = [
      { jsonrpc: '2.0', id: 'a', method: 'eth_call', params: [{ to: known.contracts[2] }, 'latest'] },
      { jsonrpc: '2.0', method: 'eth_blockNumber', params: [] },
    ]
    const inFlight = threads.handle({ value: body }, JSON.stringify(body))
    await threads.workerOf(1)?.terminate()
    expect(JSON.parse((await inFlight) ?? 'null')).toEqual([
      { jsonrpc: '2.0', id: 'a', error: { code: -32603, message: 'read thread 1 stopped while answering; retry' } },
    ])
    // While it restarts, the main thread answers (handle gives null: the server dispatches itself).
    expect(threads.handle({ value: body[0] }, JSON.stringify(body[0]))).toBeNull()
    const http = await post(node.url, { jsonrpc: '2.0', id: 3, method: 'eth_chainId', params: [] })
    expect(http.json).toEqual({ jsonrpc: '2.0', id: 3, result: '0x539' })
    await restarted
    const read = { jsonrpc: '2.0', id: 4, method: 'eth_getBlockByNumber', params: ['latest', true] }
    const [onThread, onMain] = await both(read)
    expect(onThread).toBe(onMain)
  }, 60_000)

  it('stop with the node', async () => {
    const threads = node.readThreads
    const worker = threads?.workerOf(1)
    if (!worker) throw new Error('no read thread')
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
    await node.close()
    expect(await exited).toBe(0)
    expect(threads?.readyThreads).toBe(0)
  }, 30_000)
})
