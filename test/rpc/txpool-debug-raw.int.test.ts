// txpool_status / content / contentFrom / inspect and debug_getRaw* over real HTTP.
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './bytecode.ts'
import { result, type StartedNode, startDevNode } from './live-node.ts'

const ACCOUNT_2 = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc'
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

describe('txpool_*', () => {
  it('shows a nonce-gapped transaction as queued, by sender and nonce', async () => {
    const hash = await result<string>(url, 'eth_sendTransaction', [
      { from: ACCOUNT_2, to: SOMEONE, value: '0x7', nonce: '0x5', gas: '0x5208' },
    ])
    expect(await result(url, 'txpool_status')).toEqual({ pending: '0x0', queued: '0x1' })
    const content = await result<{ pending: object; queued: Record<string, Record<string, { hash: string }>> }>(
      url,
      'txpool_content',
    )
    expect(content.pending).toEqual({})
    const bySender = Object.entries(content.queued).find(([s]) => s.toLowerCase() === ACCOUNT_2)?.[1]
    expect(bySender?.['5']?.hash).toBe(hash)
    const from = await result<{ queued: Record<string, { hash: string }> }>(url, 'txpool_contentFrom', [ACCOUNT_2])
    expect(from.queued['5']?.hash).toBe(hash)
    expect(await result(url, 'txpool_contentFrom', [SOMEONE])).toEqual({ pending: {}, queued: {} })
    const inspect = await result<{ queued: Record<string, Record<string, string>> }>(url, 'txpool_inspect')
    const line = Object.values(inspect.queued)[0]?.['5']
    expect(line).toMatch(new RegExp(`^${SOMEONE}: 7 wei \\+ 21000 gas × [0-9]+ wei$`, 'i'))
  })
})

describe('debug_getRaw*', () => {
  it('returns the signed transaction, the consensus receipts and the header', async () => {
    const r = await send(url, { to: SOMEONE, value: '0x1' })
    const raw = await result<string>(url, 'debug_getRawTransaction', [r.transactionHash])
    expect(bytesToHex(keccak256(hexToBytes(raw)))).toBe(r.transactionHash)
    expect(await result(url, 'debug_getRawTransaction', [`0x${'00'.repeat(32)}`])).toBe('0x')
    const receipts = await result<string[]>(url, 'debug_getRawReceipts', [r.blockNumber])
    expect(receipts).toHaveLength(1)
    const bytes = hexToBytes(receipts[0] as string)
    expect(bytes[0]).toBe(2)
    const [status, cumulative] = RLP.decode(bytes.subarray(1)) as Uint8Array[]
    expect(bytesToHex(status as Uint8Array)).toBe('0x01')
    expect(BigInt(bytesToHex(cumulative as Uint8Array))).toBe(21000n)
    const header = await result<string>(url, 'debug_getRawHeader', [r.blockNumber])
    expect(bytesToHex(keccak256(hexToBytes(header)))).toBe(r.blockHash)
  })
})
