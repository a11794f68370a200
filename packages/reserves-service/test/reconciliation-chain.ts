// A tiny EVM JSON-RPC endpoint on loopback for the reconciliation tests: eth_chainId,
// eth_blockNumber (one block further on every call, so a run that does not pin its block would
// read at several), eth_getBalance and ERC-20 balanceOf through eth_call, from tables the test
// sets; every call is recorded, and any method can be made to fail.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RpcCall {
  method: string
  params: unknown[]
}

export interface TestChain {
  url: string
  chainId: bigint
  /** Native balances by lowercase address. */
  balances: Map<string, bigint>
  /** ERC-20 balances: token (lowercase) → holder (lowercase) → amount. */
  tokens: Map<string, Map<string, bigint>>
  /** Methods answered with a JSON-RPC error; 'http' makes every request a 500. */
  failing: Set<string>
  calls: RpcCall[]
  block: bigint
  close(): Promise<void>
}

const hex = (v: bigint) => `0x${v.toString(16)}`

export async function startTestChain(chainId = 1337n): Promise<TestChain> {
  const chain: Omit<TestChain, 'url' | 'close'> = {
    chainId,
    balances: new Map(),
    tokens: new Map(),
    failing: new Set(),
    calls: [],
    block: 100n,
  }
  const answer = (method: string, params: unknown[]): unknown => {
    switch (method) {
      case 'eth_chainId':
        return hex(chain.chainId)
      case 'eth_blockNumber':
        chain.block += 1n
        return hex(chain.block)
      case 'eth_getBalance':
        return hex(chain.balances.get(String(params[0]).toLowerCase()) ?? 0n)
      case 'eth_call': {
        const { to, data } = params[0] as { to: string; data: string }
        if (!data.startsWith('0x70a08231')) throw new Error('execution reverted')
        const holder = `0x${data.slice(-40)}`.toLowerCase()
        const v = chain.tokens.get(to.toLowerCase())?.get(holder) ?? 0n
        return `0x${v.toString(16).padStart(64, '0')}`
      }
      default:
        throw new Error(`the method ${method} does not exist`)
    }
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id: number
        method: string
        params: unknown[]
      }
      chain.calls.push({ method: body.method, params: body.params })
      if (chain.failing.has('http')) {
        res.writeHead(500).end('upstream down')
        return
      }
      let out: Record<string, unknown>
      if (chain.failing.has(body.method))
        out = { jsonrpc: '2.0', id: body.id, error: { code: -32000, message: 'header not found' } }
      else
        try {
          out = { jsonrpc: '2.0', id: body.id, result: answer(body.method, body.params) }
        } catch (err) {
          out = { jsonrpc: '2.0', id: body.id, error: { code: -32601, message: (err as Error).message } }
        }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return Object.assign(chain, {
    url: `http://127.0.0.1:${port}/v3/secret-api-key`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  })
}
