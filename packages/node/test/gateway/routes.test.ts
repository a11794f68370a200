/** Where the gateway's root endpoint sends each kind of request. */
import { describe, expect, it } from 'vitest'
import { routeOf } from '../../src/gateway/routes.ts'

const A = '0x00000000000000000000000000000000000000aa'
const B = '0x00000000000000000000000000000000000000bb'

describe('gateway routes', () => {
  it.each([
    ['eth_sendRawTransaction', ['0x02f8'], { kind: 'sender', raw: '0x02f8' }],
    ['eth_getBalance', [A, 'latest'], { kind: 'address', address: A }],
    ['eth_getTransactionCount', [A, 'pending'], { kind: 'address', address: A }],
    ['eth_getStorageAt', [A, '0x0', 'latest'], { kind: 'address', address: A }],
    ['eth_call', [{ from: A, to: B, data: '0x' }, 'latest'], { kind: 'address', address: B }],
    ['eth_estimateGas', [{ from: A, data: '0x6000' }], { kind: 'address', address: A }],
    ['eth_getLogs', [{ address: [B], fromBlock: '0x0' }], { kind: 'address', address: B }],
    ['eth_getTransactionReceipt', [`0x${'1'.repeat(64)}`], { kind: 'anyShard' }],
    ['cairn_getShardInfo', [], { kind: 'gateway' }],
    ['eth_blockNumber', [], { kind: 'coordinating' }],
    ['eth_chainId', [], { kind: 'coordinating' }],
    ['eth_getBlockByNumber', ['latest', false], { kind: 'coordinating' }],
  ])('%s goes where it should', (method, params, route) => {
    expect(routeOf(method, params)).toEqual(route)
  })

  it.each([
    ['eth_getBalance', ['0x12', 'latest'], /takes an address/],
    ['eth_call', [{ data: '0x' }], /needs a "to"/],
    ['eth_getLogs', [{ fromBlock: '0x0' }], /one contract address/],
    ['eth_getLogs', [{ address: [A, B] }], /one contract address/],
    ['eth_sendRawTransaction', [42], /raw transaction as a hex string/],
  ])('%s %j is refused, saying what to send', (method, params, message) => {
    const route = routeOf(method, params)
    expect(route.kind).toBe('refuse')
    expect((route as { message: string }).message).toMatch(message)
  })
})
