// Fork mode at the chain's level, in process: a chain opened on a remote chain's block (its state
// read through a fake transport that answers from the remote chain itself: eth_getProof,
// eth_getCode, eth_getBlockByNumber) builds the same next block as the remote does — same state
// root, receipts and BLOCKHASH answers (of its own first block and of a remote block before it) —
// reads what the remote holds, and sees a zeroed slot as zero. The transport's batching, retries
// and rate limit are checked with the same fake.
import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex, hexToBytes, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { createAddressFromString, generateAddress } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { ForkRpcClient } from '../../src/fork/rpc-client.ts'
import { accountProof, Chain, connectFork } from '../../src/index.ts'
import {
  ADDRS,
  BH1_ADDR,
  BH2_ADDR,
  buildAndImport,
  call,
  contractsGenesis,
  KEYS,
  LOG_ADDR,
  listSource,
  openChain,
  testEngine,
  transfer,
} from '../helpers.ts'

type Req = { id: number; method: string; params: unknown[] }

const hx = (n: bigint) => `0x${n.toString(16)}`

/** The RPC shape of a header (eth_getBlockByNumber's names). */
function rpcBlock(block: Block): Record<string, unknown> {
  const h = block.header
  return {
    number: hx(h.number),
    hash: bytesToHex(block.hash()),
    parentHash: bytesToHex(h.parentHash),
    sha3Uncles: bytesToHex(h.uncleHash),
    miner: h.coinbase.toString(),
    stateRoot: bytesToHex(h.stateRoot),
    transactionsRoot: bytesToHex(h.transactionsTrie),
    receiptsRoot: bytesToHex(h.receiptTrie),
    logsBloom: bytesToHex(h.logsBloom),
    difficulty: hx(h.difficulty),
    gasLimit: hx(h.gasLimit),
    gasUsed: hx(h.gasUsed),
    timestamp: hx(h.timestamp),
    extraData: bytesToHex(h.extraData),
    mixHash: bytesToHex(h.mixHash),
    nonce: bytesToHex(h.nonce),
    baseFeePerGas: h.baseFeePerGas !== undefined ? hx(h.baseFeePerGas) : undefined,
    withdrawalsRoot: h.withdrawalsRoot ? bytesToHex(h.withdrawalsRoot) : undefined,
    blobGasUsed: h.blobGasUsed !== undefined ? hx(h.blobGasUsed) : undefined,
    excessBlobGas: h.excessBlobGas !== undefined ? hx(h.excessBlobGas) : undefined,
    parentBeaconBlockRoot: h.parentBeaconBlockRoot ? bytesToHex(h.parentBeaconBlockRoot) : undefined,
    requestsHash: h.requestsHash ? bytesToHex(h.requestsHash) : undefined,
  }
}

/** A JSON-RPC endpoint over `remote` (reads at the block named), as a `fetch`; records each HTTP request's calls. */
function remoteFetch(remote: Chain, log: Req[][]): typeof fetch {
  const answer = async (r: Req): Promise<unknown> => {
    const at = async (tag: unknown) => {
      const block = await remote.getBlockByNumber(BigInt(tag as string))
      if (!block) throw new Error(`no block ${tag}`)
      return remote.stateAfter(block.header)
    }
    switch (r.method) {
      case 'eth_chainId':
        return hx(remote.chainId)
      case 'eth_blockNumber':
        return hx(remote.head.header.number)
      case 'eth_getBlockByNumber': {
        const b = await remote.getBlockByNumber(BigInt(r.params[0] as string))
        return b ? rpcBlock(b) : null
      }
      case 'eth_getCode':
        return bytesToHex(await (await at(r.params[1])).getCode(createAddressFromString(r.params[0] as string)))
      case 'eth_getProof': {
        const [addr, keys, tag] = r.params as [Hex, Hex[], Hex]
        return accountProof(
          await at(tag),
          hexToBytes(addr),
          keys.map((k) => hexToBytes(k)),
        )
      }
    }
    throw new Error(`unexpected ${r.method}`)
  }
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as Req | Req[]
    const reqs = Array.isArray(body) ? body : [body]
    log.push(reqs)
    const out = await Promise.all(reqs.map(async (r) => ({ jsonrpc: '2.0', id: r.id, result: await answer(r) })))
    return new Response(JSON.stringify(Array.isArray(body) ? out : out[0]), { status: 200 })
  }) as typeof fetch
}

describe.each([false, true])('fork mode (chain level), reference mode %s', (reference) => {
  it('builds the same next block as the remote: state root, receipts, BLOCKHASH of the fork block and of a remote one', async () => {
    const remote = await openChain(new MemoryKV(), contractsGenesis())
    // Three blocks of history on the remote: transfers and BLOCKHASH writes into storage.
    for (let i = 0n; i < 3n; i++) {
      await buildAndImport(remote, [
        transfer(remote.common, KEYS[1] as Uint8Array, i, ADDRS[2] as Hex, 1000n + i),
        call(remote.common, KEYS[2] as Uint8Array, i, BH1_ADDR),
      ])
    }
    const forkBlock = remote.head
    const log: Req[][] = []
    const start = await connectFork({ url: 'http://remote.test:8545' }, { fetch: remoteFetch(remote, log) })
    expect(start.blockNumber).toBe(3n)
    const kv = new MemoryKV()
    await kv.open()
    const fork = await Chain.open(
      { fork: start, reference },
      { kv, engine: testEngine, logger: silentLogger, metrics: null },
    )
    expect(bytesToHex(fork.head.hash())).toBe(bytesToHex(forkBlock.hash()))
    expect(fork.fork?.blockNumber).toBe(3n)

    // Nothing asked for an account yet: it is the remote's (reads may go to the remote directly).
    expect(fork.fork?.untouched(ADDRS[2] as Hex)).toBe(true)
    // Reads through the fork: a balance and a slot the remote wrote.
    const view = fork.stateAfter(fork.head.header)
    const remoteView = remote.stateAfter(forkBlock.header)
    const a2 = createAddressFromString(ADDRS[2] as Hex)
    expect((await view.getAccount(a2))?.balance).toBe((await remoteView.getAccount(a2))?.balance)
    const slot2 = hexToBytes(`0x${'00'.repeat(31)}02`)
    const bh1 = createAddressFromString(BH1_ADDR)
    expect(bytesToHex(await view.getStorage(bh1, slot2))).toBe(bytesToHex(await remoteView.getStorage(bh1, slot2)))
    expect(bytesToHex(await view.getCode(bh1))).toBe(bytesToHex(await remoteView.getCode(bh1)))
    // Read locally once: the local trie answers it from now on (it may be written).
    expect(fork.fork?.untouched(ADDRS[2] as Hex)).toBe(false)
    expect(fork.fork?.untouched(LOG_ADDR)).toBe(true)

    // The same block on both: a transfer, BLOCKHASH(N-1) of the fork block, BLOCKHASH(N-2) of a remote block.
    const txs = (c: Chain) => [
      transfer(c.common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as Hex, 5n),
      call(c.common, KEYS[2] as Uint8Array, 3n, BH1_ADDR),
      call(c.common, KEYS[1] as Uint8Array, 3n, BH2_ADDR),
    ]
    const timestamp = forkBlock.header.timestamp + 12n
    const onRemote = await remote.build(remote.head, { timestamp }, listSource(txs(remote)))
    const onFork = await fork.build(fork.head, { timestamp }, listSource(txs(fork)))
    expect(onFork.rejected).toEqual([])
    expect(bytesToHex(onFork.stateRoot)).toBe(bytesToHex(onRemote.stateRoot))
    expect(bytesToHex(onFork.block.hash())).toBe(bytesToHex(onRemote.block.hash()))
    await fork.committer.commit(onFork)
    expect(fork.head.header.number).toBe(4n)
    // BLOCKHASH(2) came from the remote (eth_getBlockByNumber 0x2).
    expect(log.flat().some((r) => r.method === 'eth_getBlockByNumber' && r.params[0] === '0x2')).toBe(true)
    // An account's proof and code travel in one HTTP request.
    expect(log.some((reqs) => reqs.map((r) => r.method).join() === 'eth_getProof,eth_getCode')).toBe(true)
    // The fork's own writes do not reach the remote.
    expect(remote.head.header.number).toBe(3n)
    // Reopened on the same store (a datadir): what an earlier process wrote is not known here, so
    // no account counts as untouched.
    const again = await Chain.open(
      { fork: start, reference },
      { kv, engine: testEngine, logger: silentLogger, metrics: null },
    )
    expect(again.fork?.untouched(LOG_ADDR)).toBe(false)
  })

  it('writes to empty storage on a remote that proves it with the empty node (Anvil, reth): a create, a first write', async () => {
    const remote = await openChain(new MemoryKV(), contractsGenesis())
    await buildAndImport(remote, [transfer(remote.common, KEYS[1] as Uint8Array, 0n, ADDRS[2] as Hex, 1n)])
    // Anvil answers a slot of an account without storage with the proof ["0x80"] (the empty trie's
    // node, which is no node to walk) where geth and Cairn answer [].
    const cairnStyle = remoteFetch(remote, [])
    const anvilStyle = (async (url: string | URL | Request, init?: RequestInit) => {
      const res = await cairnStyle(url, init)
      const body = (await res.json()) as unknown
      const fix = (a: { result?: { storageProof?: { proof: Hex[] }[] } }) => {
        for (const sp of a.result?.storageProof ?? []) if (sp.proof.length === 0) sp.proof = ['0x80']
        return a
      }
      const out = Array.isArray(body) ? body.map(fix) : fix(body as never)
      return new Response(JSON.stringify(out), { status: 200 })
    }) as typeof fetch
    const start = await connectFork({ url: 'http://remote.test:8545' }, { fetch: anvilStyle })
    const kv = new MemoryKV()
    await kv.open()
    const fork = await Chain.open(
      { fork: start, reference },
      { kv, engine: testEngine, logger: silentLogger, metrics: null },
    )
    // A contract whose init code writes slot 0 (PUSH1 42 PUSH1 0 SSTORE STOP), and the first write
    // of a contract that never wrote (BH2 stores BLOCKHASH(N-2) in its storage).
    const txs = (c: Chain) => [
      transfer(c.common, KEYS[0] as Uint8Array, 0n, ADDRS[0] as Hex, 0n, {
        to: undefined,
        data: hexToBytes('0x602a60005500'),
        gasLimit: 100_000n,
      }),
      call(c.common, KEYS[2] as Uint8Array, 0n, BH2_ADDR),
    ]
    const timestamp = remote.head.header.timestamp + 12n
    const onRemote = await remote.build(remote.head, { timestamp }, listSource(txs(remote)))
    const onFork = await fork.build(fork.head, { timestamp }, listSource(txs(fork)))
    expect(onFork.rejected).toEqual([])
    expect(onFork.receipts.map((r) => r.status)).toEqual([1, 1])
    expect(bytesToHex(onFork.stateRoot)).toBe(bytesToHex(onRemote.stateRoot))
    await fork.committer.commit(onFork)
    const created = createAddressFromString(
      bytesToHex(generateAddress(hexToBytes(ADDRS[0] as Hex), new Uint8Array())) as Hex,
    )
    const view = fork.stateAfter(fork.head.header)
    expect(bytesToHex(await view.getStorage(created, new Uint8Array(32)))).toBe('0x2a')
  })

  it('refuses a remote whose proofs are not of its state root', async () => {
    const remote = await openChain(new MemoryKV(), contractsGenesis())
    const other = await openChain(new MemoryKV(), contractsGenesis())
    await buildAndImport(other, [transfer(other.common, KEYS[1] as Uint8Array, 0n, ADDRS[2] as Hex, 1n)])
    const good = remoteFetch(remote, [])
    const liar = remoteFetch(other, [])
    // Proofs from another state than the block's: the first node hashes to another root.
    let first = true
    const mixed = (async (url: string | URL | Request, init?: RequestInit) => {
      const body = String(init?.body)
      if (body.includes('eth_getProof') && !first)
        return liar(url, { ...init, body: body.replace(/"0x0"\]/g, '"0x1"]') })
      if (body.includes('eth_getProof')) first = false
      return good(url, init)
    }) as typeof fetch
    const start = await connectFork({ url: 'http://remote.test:8545', blockNumber: 0n }, { fetch: mixed })
    const kv = new MemoryKV()
    await kv.open()
    const fork = await Chain.open(
      { fork: start, reference },
      { kv, engine: testEngine, logger: silentLogger, metrics: null },
    )
    await expect(
      fork.stateAfter(fork.head.header).getAccount(createAddressFromString(ADDRS[2] as Hex)),
    ).rejects.toThrow(/not of the fork block's state root/)
  })
})

describe('the fork transport', () => {
  function fakeServer(statuses: number[]) {
    const requests: string[] = []
    const f = (async (_u: string | URL | Request, init?: RequestInit) => {
      requests.push(String(init?.body))
      const status = statuses.shift() ?? 200
      if (status !== 200) return new Response('busy', { status })
      const body = JSON.parse(String(init?.body)) as Req | Req[]
      const reqs = Array.isArray(body) ? body : [body]
      const out = reqs.map((r) => ({ jsonrpc: '2.0', id: r.id, result: r.method }))
      return new Response(JSON.stringify(Array.isArray(body) ? out : out[0]))
    }) as typeof fetch
    return { f, requests }
  }

  it('sends calls made in one turn as one batch, retries 429 and 5xx with a doubling backoff, then gives up', async () => {
    const { f, requests } = fakeServer([429, 503])
    const waits: number[] = []
    const client = new ForkRpcClient(
      { url: 'http://r.test', backoffMs: 10 },
      { fetch: f, sleep: async (ms) => void waits.push(ms) },
    )
    const answers = await Promise.all([client.call('a', []), client.call('b', []), client.call('c', [])])
    expect(answers).toEqual(['a', 'b', 'c'])
    expect(requests).toHaveLength(3)
    expect(JSON.parse(requests[2] as string)).toHaveLength(3)
    expect(waits).toEqual([10, 20])

    const down = fakeServer([500, 500, 500])
    const giveUp = new ForkRpcClient(
      { url: 'http://r.test/secret-key', attempts: 3 },
      { fetch: down.f, sleep: async () => {} },
    )
    const err = await giveUp.call('x', []).catch((e: Error & { code?: string }) => e)
    expect((err as { code?: string }).code).toBe('CHAIN_FORK_REMOTE')
    expect((err as Error).message).toMatch(/gave up after 3 attempts/)
    expect((err as Error).message).not.toMatch(/secret-key/)
  })

  it('starts at most requestsPerSecond requests in any second', async () => {
    const { f, requests } = fakeServer([])
    let now = 0
    const waits: number[] = []
    const client = new ForkRpcClient(
      { url: 'http://r.test', requestsPerSecond: 2, maxBatch: 1 },
      {
        fetch: f,
        now: () => now,
        sleep: async (ms) => {
          waits.push(ms)
          now += ms
        },
      },
    )
    await Promise.all([client.call('a', []), client.call('b', []), client.call('c', [])])
    expect(requests).toHaveLength(3)
    expect(waits).toEqual([1000])
  })

  it('refuses a URL that is not http(s)', () => {
    expect(() => new ForkRpcClient({ url: 'ws://r.test' })).toThrow(/not an http\(s\) URL/)
  })
})
