// JSON-RPC over the real transports of a real dev node (started in-process on a free port):
// envelopes, batches, notifications, params errors, reverts, raw transactions, WebSocket
// subscriptions and the /metrics endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_METHODS } from '../../packages/rpc/src/index.ts'
import {
  call,
  type Posted,
  post,
  type RpcResponse,
  receipt,
  result,
  type StartedNode,
  startDevNode,
  WsRpc,
} from './live-node.ts'

const ACCOUNT_0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const ACCOUNT_3 = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const ACCOUNT_5 = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc'
const SOMEONE = '0x1111111111111111111111111111111111111111'

let node: StartedNode
let url: string

beforeAll(async () => {
  node = await startDevNode()
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

// ---------------------------------------------------------------------------------------------
// EVM bytecode, assembled by hand (no compiler needed)

const hex1 = (n: number) => {
  if (n > 0xff) throw new Error(`${n} does not fit a PUSH1`)
  return n.toString(16).padStart(2, '0')
}

/** Code that copies `payload` (hex, no 0x) to memory and ends with `op` (f3 RETURN, fd REVERT) over it. */
function codeEndingWith(op: 'f3' | 'fd', payload: string): string {
  const len = hex1(payload.length / 2)
  // PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 <op>; the payload starts at byte 12
  return `60${len}600c60003960${len}6000${op}${payload}`
}

/** ABI encoding of `Error(string)`, as `revert("...")` returns it. */
function errorString(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8').toString('hex')
  const padded = bytes.padEnd(Math.ceil(bytes.length / 64) * 64 || 64, '0')
  return `08c379a0${'20'.padStart(64, '0')}${(bytes.length / 2).toString(16).padStart(64, '0')}${padded}`
}

/** Init code that deploys `runtime`. */
const deployer = (runtime: string) => `0x${codeEndingWith('f3', runtime)}`

const TOPIC = `0x${'ab'.repeat(32)}`
/** Runtime: LOG1(topic = TOPIC, no data), then STOP. */
const EMITTER_RUNTIME = `7f${TOPIC.slice(2)}60006000a100`

async function deploy(runtime: string): Promise<string> {
  const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, data: deployer(runtime) }])
  const r = await receipt(url, hash)
  expect(r.status).toBe('0x1')
  return r.contractAddress as string
}

// ---------------------------------------------------------------------------------------------

function expectError(r: RpcResponse | undefined, code: number, id: RpcResponse['id'] = null): { message: string } {
  expect(r, 'no response').toBeDefined()
  expect(r).toMatchObject({ jsonrpc: '2.0', id, error: { code } })
  expect(r).not.toHaveProperty('result')
  expect(typeof r?.error?.message).toBe('string')
  return r?.error as { message: string }
}

function expectJsonResponse(p: Posted): void {
  expect(p.status).toBe(200)
  expect(p.contentType).toMatch(/^application\/json/)
}

describe('envelope errors', () => {
  it('truncated JSON is a parse error (-32700) with id null', async () => {
    const p = await post(url, '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"')
    expectJsonResponse(p)
    expectError(p.json as RpcResponse, -32700, null)
    // a truncated batch too
    expectError((await post(url, '[{"jsonrpc":"2.0","id":1,')).json as RpcResponse, -32700, null)
    // an empty body
    expectError((await post(url, '')).json as RpcResponse, -32700, null)
  })

  it('a request that is not an object is an invalid request (-32600)', async () => {
    for (const body of ['1', '"eth_blockNumber"', 'null', 'true']) {
      const p = await post(url, body)
      expectJsonResponse(p)
      expectError(p.json as RpcResponse, -32600, null)
    }
  })

  it('an empty batch is an invalid request (-32600)', async () => {
    const p = await post(url, '[]')
    expectJsonResponse(p)
    expectError(p.json as RpcResponse, -32600, null)
  })

  it('a bad envelope is -32600, echoing the id when it is a valid one', async () => {
    expectError((await post(url, { id: 5, method: 'eth_chainId' })).json as RpcResponse, -32600, 5)
    expectError((await post(url, { jsonrpc: '1.0', id: 'x', method: 'eth_chainId' })).json as RpcResponse, -32600, 'x')
    expectError((await post(url, { jsonrpc: '2.0', id: 6, method: 7 })).json as RpcResponse, -32600, 6)
    expectError((await post(url, { jsonrpc: '2.0', id: { a: 1 }, method: 'eth_chainId' })).json as RpcResponse, -32600)
  })

  it('an unknown method is -32601 and the message names it', async () => {
    const r = await call(url, 'eth_doesNotExist', [])
    expect(expectError(r, -32601, r.id).message).toContain('eth_doesNotExist')
  })

  it('eth_subscribe over HTTP is refused with a hint to use WebSocket', async () => {
    const r = await call(url, 'eth_subscribe', ['newHeads'])
    expect(expectError(r, -32601, r.id).message).toMatch(/WebSocket/)
  })
})

describe('invalid params (-32602) name the argument', () => {
  const cases: [string, string, unknown, RegExp][] = [
    ['a bad address', 'eth_getBalance', ['0x123', 'latest'], /argument 0.*address/],
    [
      'a quantity with leading zeros',
      'eth_getTransactionByBlockNumberAndIndex',
      ['latest', '0x01'],
      /argument 1.*leading zeros/,
    ],
    ['a block number with leading zeros', 'eth_getBlockByNumber', ['0x01', false], /argument 0/],
    ['a missing required first param', 'eth_getBalance', [], /missing value for required argument 0/],
    ['a missing required second param', 'eth_getTransactionByBlockNumberAndIndex', ['latest'], /required argument 1/],
    ['too many params', 'eth_blockNumber', [1], /too many arguments/],
    ['a bad field inside an object param', 'eth_call', [{ to: '0x12' }], /argument 0 \(field to\)/],
    ['params that are not an array', 'eth_getBalance', { address: SOMEONE }, /positional array/],
    ['raw bytes that are not hex', 'eth_sendRawTransaction', ['zz'], /argument 0/],
  ]
  for (const [what, method, params, message] of cases) {
    it(what, async () => {
      const r = await call(url, method, params)
      expect(expectError(r, -32602, r.id).message).toMatch(message)
    })
  }
})

describe('batches', () => {
  it('a batch with bad entries answers every other entry, in order', async () => {
    const p = await post(url, [
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
      { jsonrpc: '2.0', id: 2, method: 'no_such_method' },
      5,
      { jsonrpc: '2.0', id: 3, method: 'eth_getBalance', params: ['0xnope'] },
      { jsonrpc: '2.0', id: 4, method: 'net_version' },
    ])
    expectJsonResponse(p)
    const res = p.json as RpcResponse[]
    expect(res).toHaveLength(5)
    expect(res[0]).toEqual({ jsonrpc: '2.0', id: 1, result: '0x539' })
    expectError(res[1], -32601, 2)
    expectError(res[2], -32600, null)
    expectError(res[3], -32602, 3)
    expect(res[4]).toEqual({ jsonrpc: '2.0', id: 4, result: '1337' })
  })

  it('1000 requests are served; 1001 are refused with one error', async () => {
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))
    const ok = (await post(url, batch(1000))).json as RpcResponse[]
    expect(ok).toHaveLength(1000)
    expect(ok.every((r, i) => r.id === i && r.result === '0x539')).toBe(true)

    const p = await post(url, batch(1001))
    expectJsonResponse(p)
    expect(Array.isArray(p.json)).toBe(false)
    expect(expectError(p.json as RpcResponse, -32600, null).message).toContain('1000')
  })
})

describe('notifications (no id) get no response', () => {
  it('a single notification: empty body', async () => {
    const p = await post(url, { jsonrpc: '2.0', method: 'eth_blockNumber', params: [] })
    expect(p.status).toBe(200)
    expect(p.text).toBe('')
  })

  it('a notification of an unknown method or with bad params: still no response', async () => {
    expect((await post(url, { jsonrpc: '2.0', method: 'no_such_method' })).text).toBe('')
    expect((await post(url, { jsonrpc: '2.0', method: 'eth_getBalance', params: ['0x1'] })).text).toBe('')
  })

  it('a batch of notifications only: empty body', async () => {
    const p = await post(url, [
      { jsonrpc: '2.0', method: 'eth_chainId' },
      { jsonrpc: '2.0', method: 'net_version' },
    ])
    expect(p.text).toBe('')
  })

  it('a mixed batch: only the requests with an id are answered', async () => {
    const res = (
      await post(url, [
        { jsonrpc: '2.0', method: 'eth_chainId' },
        { jsonrpc: '2.0', id: 'a', method: 'net_version' },
        { jsonrpc: '2.0', method: 'no_such_method' },
        { jsonrpc: '2.0', id: null, method: 'eth_chainId' },
      ])
    ).json as RpcResponse[]
    expect(res).toEqual([
      { jsonrpc: '2.0', id: 'a', result: '1337' },
      { jsonrpc: '2.0', id: null, result: '0x539' },
    ])
  })
})

describe('reverts: code 3, data = the revert bytes, message "execution reverted: <reason>"', () => {
  it('eth_call of init code that reverts with Error(string), without `to`', async () => {
    const data = errorString('nope, not today')
    const r = await call(url, 'eth_call', [{ from: ACCOUNT_0, data: `0x${codeEndingWith('fd', data)}` }, 'latest'])
    const err = expectError(r, 3, r.id) as { message: string; data?: unknown }
    expect(err.message).toBe('execution reverted: nope, not today')
    expect(err.data).toBe(`0x${data}`)
  })

  it('eth_call and eth_estimateGas of a deployed contract that reverts', async () => {
    const data = errorString('custom reason')
    const address = await deploy(codeEndingWith('fd', data))
    expect(await result(url, 'eth_getCode', [address, 'latest'])).toBe(`0x${codeEndingWith('fd', data)}`)
    for (const method of ['eth_call', 'eth_estimateGas']) {
      const r = await call(url, method, [{ from: ACCOUNT_0, to: address }])
      const err = expectError(r, 3, r.id) as { message: string; data?: unknown }
      expect(err.message).toBe('execution reverted: custom reason')
      expect(err.data).toBe(`0x${data}`)
    }
  })

  it('a revert without a reason: "execution reverted", data 0x', async () => {
    const r = await call(url, 'eth_call', [{ data: `0x${codeEndingWith('fd', '')}` }])
    const err = expectError(r, 3, r.id) as { message: string; data?: unknown }
    expect(err.message).toBe('execution reverted')
    expect(err.data).toBe('0x')
  })

  it('a Panic(uint256) revert names the panic code', async () => {
    const panic = `4e487b71${'11'.padStart(64, '0')}`
    const r = await call(url, 'eth_call', [{ data: `0x${codeEndingWith('fd', panic)}` }])
    const err = expectError(r, 3, r.id) as { message: string; data?: unknown }
    expect(err.message).toBe('execution reverted: panic: 0x11')
    expect(err.data).toBe(`0x${panic}`)
  })
})

describe('eth_sendRawTransaction', () => {
  it('garbage bytes: -32000 invalid transaction', async () => {
    for (const raw of ['0xdeadbeef', '0x', '0xc0']) {
      const r = await call(url, 'eth_sendRawTransaction', [raw])
      expect(expectError(r, -32000, r.id).message).toMatch(/^invalid transaction/)
    }
  })

  it('a transaction whose nonce is already used: -32000 "nonce too low"', async () => {
    const first = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_3, to: SOMEONE, value: '0x1' }])
    await receipt(url, first)
    const raw = await result<string>(url, 'eth_signTransaction', [
      { from: ACCOUNT_3, to: SOMEONE, value: '0x2', nonce: '0x0' },
    ])
    const r = await call(url, 'eth_sendRawTransaction', [raw])
    expect(expectError(r, -32000, r.id).message).toBe('nonce too low')
  })

  it('a valid signed transaction is accepted and mined', async () => {
    const nonce = await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_5, 'pending'])
    const raw = await result<string>(url, 'eth_signTransaction', [
      { from: ACCOUNT_5, to: SOMEONE, value: '0x3', nonce },
    ])
    const hash = await result<string>(url, 'eth_sendRawTransaction', [raw])
    expect((await receipt(url, hash)).status).toBe('0x1')
  })
})

describe('caller mistakes in eth_sendTransaction / eth_signTransaction are caller errors, not internal ones', () => {
  // Regression (was a bug in packages/rpc/src/methods/eth-send.ts:65, signRequest): `createTx(txData).sign(key)` is not
  // wrapped like decodeRaw is, so @ethereumjs's plain Errors for out-of-range fields (gas or nonce
  // above 2^64-1, maxPriorityFeePerGas > maxFeePerGas) become -32603 "internal error" (and an
  // error-level log line) instead of a -32000/-32602 that says what is wrong.
  const cases: [string, Record<string, string>][] = [
    ['gas above 2^64-1', { gas: '0x10000000000000000' }],
    ['a nonce of 2^64-1 or more', { nonce: '0xffffffffffffffff' }],
    ['maxPriorityFeePerGas above maxFeePerGas', { maxPriorityFeePerGas: '0x2', maxFeePerGas: '0x1' }],
  ]
  for (const [what, fields] of cases) {
    it(`eth_signTransaction with ${what}`, async () => {
      const r = await call(url, 'eth_signTransaction', [{ from: ACCOUNT_0, to: SOMEONE, ...fields }])
      expect(r.error?.code).toBeDefined()
      expect(r.error?.code).not.toBe(-32603)
    })
  }

  // Regression (was a bug in packages/rpc/src/methods/eth-send.ts:28-65): the request's chainId is ignored: the node
  // signs for its own chain (1337) although the caller asked for chain 5. geth refuses with
  // "chainId does not match node's (have=5, want=1337)"; a silent substitution signs something
  // the caller did not ask for.
  it('eth_signTransaction with another chainId is refused', async () => {
    const r = await call(url, 'eth_signTransaction', [{ from: ACCOUNT_0, to: SOMEONE, chainId: '0x5' }])
    expect(r.error?.message).toMatch(/chain ?id/i)
  })
})

describe('eth_call / eth_estimateGas check the value against the balance', () => {
  // Regression (was a bug in packages/rpc/src/exec.ts:62, prepareCall): with no gas price the call runs with
  // `skipBalance: true`, and @ethereumjs then credits the caller whatever the call needs, value
  // included. So eth_estimateGas of a transfer the sender cannot afford answers 21000 (wallets go
  // on to send a transaction the pool refuses), where geth answers "insufficient funds for
  // transfer". Fix: with gasPrice 0 skip the gas part only, and still refuse value > balance.
  it('eth_estimateGas of a transfer from an empty account is refused', async () => {
    const empty = '0x2222222222222222222222222222222222222222'
    const r = await call(url, 'eth_estimateGas', [{ from: empty, to: SOMEONE, value: '0x1' }])
    expect(r.error?.message).toMatch(/insufficient funds/)
  })
})

describe('WebSocket', () => {
  it('answers plain requests, and parse errors, on the socket', async () => {
    const ws = await WsRpc.connect(url)
    try {
      expect(await ws.request('eth_chainId')).toMatchObject({ result: '0x539' })
      ws.socket.send('{"jsonrpc":"2.0","id":')
      const err = await ws.next((m) => (m.error as { code?: number } | undefined)?.code === -32700)
      expect(err).toMatchObject({ jsonrpc: '2.0', id: null })
    } finally {
      await ws.close()
    }
  })

  it('eth_subscribe newHeads delivers the header of the block that mined a transaction; eth_unsubscribe → true', async () => {
    const ws = await WsRpc.connect(url)
    try {
      const sub = await ws.request('eth_subscribe', ['newHeads'])
      const id = sub.result as string
      expect(id).toMatch(/^0x[0-9a-f]+$/)

      const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: SOMEONE, value: '0x1' }])
      const mined = await receipt(url, hash)
      const note = await ws.next((m) => {
        const p = m.params as { subscription?: string; result?: { number?: string } } | undefined
        return m.method === 'eth_subscription' && p?.subscription === id && p.result?.number === mined.blockNumber
      })
      expect(note).not.toHaveProperty('id')
      const header = (note.params as { result: Record<string, unknown> }).result
      expect(header.hash).toBe(mined.blockHash)
      expect(header).toHaveProperty('parentHash')
      expect(header).toHaveProperty('stateRoot')

      expect(await ws.request('eth_unsubscribe', [id])).toMatchObject({ result: true })
      expect(await ws.request('eth_unsubscribe', [id])).toMatchObject({ result: false })

      // nothing more for that subscription
      const seen = ws.messages.length
      await result(url, 'evm_mine')
      await new Promise((resolve) => setTimeout(resolve, 300))
      const later = ws.messages
        .slice(seen)
        .filter((m) => (m.params as { subscription?: string } | undefined)?.subscription === id)
      expect(later).toEqual([])
    } finally {
      await ws.close()
    }
  })

  it('eth_subscribe logs (filtered by address and topic) delivers the log of a transaction', async () => {
    const emitter = await deploy(EMITTER_RUNTIME)
    const ws = await WsRpc.connect(url)
    try {
      const sub = await ws.request('eth_subscribe', ['logs', { address: emitter, topics: [TOPIC] }])
      const id = sub.result as string
      expect(id).toMatch(/^0x[0-9a-f]+$/)
      // a filter for another address must not see it
      const other = (await ws.request('eth_subscribe', ['logs', { address: SOMEONE }])).result as string

      const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: emitter }])
      const mined = await receipt(url, hash)
      expect(mined.status).toBe('0x1')
      const note = await ws.next(
        (m) => m.method === 'eth_subscription' && (m.params as { subscription?: string }).subscription === id,
      )
      const log = (note.params as { result: Record<string, unknown> }).result
      expect(log).toMatchObject({
        address: emitter.toLowerCase(),
        topics: [TOPIC],
        data: '0x',
        transactionHash: hash,
        blockNumber: mined.blockNumber,
        blockHash: mined.blockHash,
        removed: false,
      })
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(
        ws.messages.filter((m) => (m.params as { subscription?: string } | undefined)?.subscription === other),
      ).toEqual([])
      expect(await ws.request('eth_unsubscribe', [id])).toMatchObject({ result: true })
    } finally {
      await ws.close()
    }
  })

  it('eth_subscribe with a bad kind is -32602', async () => {
    const ws = await WsRpc.connect(url)
    try {
      const r = await ws.request('eth_subscribe', ['newBlocksPlease'])
      expectError(r, -32602, r.id)
    } finally {
      await ws.close()
    }
  })
})

describe('/metrics', () => {
  it('Prometheus text with the head block and per-method request counts; a bogus method counts as "unknown"', async () => {
    const bogus = 'bogus_methodForMetrics'
    const r = await call(url, bogus, [])
    expectError(r, -32601, r.id)
    await result(url, 'eth_chainId')
    const head = BigInt(await result<string>(url, 'eth_blockNumber'))

    const res = await fetch(`${url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()

    const headLine = /^cairn_chain_head_block (\d+)$/m.exec(text)
    expect(headLine, text.slice(0, 2000)).not.toBeNull()
    expect(BigInt(headLine?.[1] as string)).toBe(head)

    expect(text).toMatch(/^# TYPE cairn_rpc_requests_total counter$/m)
    const labels = [...text.matchAll(/^cairn_rpc_requests_total\{([^}]*)\} \d+/gm)].map((m) => m[1] as string)
    const methods = new Set(labels.map((l) => /method="([^"]*)"/.exec(l)?.[1]))
    const served = new Set([...ALL_METHODS.map((m) => m.name), 'unknown'])
    for (const m of methods) expect(served.has(m as string), `label method="${m}"`).toBe(true)
    expect(methods.has('eth_chainId')).toBe(true)
    expect(methods.has('unknown')).toBe(true)
    expect(labels).toContain('method="unknown",code="-32601"')
    expect(text).not.toContain(bogus)
    // the duration histogram is labelled the same way
    const durationMethods = [...text.matchAll(/^cairn_rpc_request_duration_seconds_count\{method="([^"]*)"\}/gm)].map(
      (m) => m[1] as string,
    )
    for (const m of durationMethods) expect(served.has(m)).toBe(true)
  })

  it('GET / is 405 with a hint; /health is ok', async () => {
    const res = await fetch(url)
    expect(res.status).toBe(405)
    expect(await res.text()).toMatch(/POST/)
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' })
  })
})
