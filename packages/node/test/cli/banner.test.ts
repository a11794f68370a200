// The start banner names the address the RPC is bound to, and warns when unlocked dev accounts are
// reachable from other machines (--dev --http.addr 0.0.0.0).
import { describe, expect, it } from 'vitest'
import { banner } from '../../src/cli/banner.ts'
import type { StartedNode } from '../../src/node.ts'

const node = {
  url: 'http://127.0.0.1:8545',
  datadir: null,
  accounts: [{ address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', privateKey: new Uint8Array(32) }],
  chain: {
    chainId: 1337n,
    genesis: { hardfork: 'osaka' },
    head: { header: { number: 0n, gasLimit: 30_000_000n }, hash: () => new Uint8Array(32) },
  },
} as unknown as StartedNode
const opts = { mnemonic: 'test … junk', balanceEth: '10000', version: '0.1.0' }

describe('the start banner', () => {
  it('on loopback: the URL, no warning', () => {
    const text = banner(node, { ...opts, bindAddr: '127.0.0.1' })
    expect(text).toContain('Listening on http://127.0.0.1:8545')
    expect(text).not.toContain('WARNING')
  })

  it('on every interface: says so, and warns that the unlocked accounts are exposed', () => {
    const text = banner(node, { ...opts, bindAddr: '0.0.0.0' })
    expect(text).toContain('Listening on 0.0.0.0:8545, every interface')
    expect(text).toMatch(/WARNING: the dev accounts above are unlocked and the RPC is reachable from other machines/)
  })

  it('on one address that is not loopback: that URL, not "every interface", and the warning', () => {
    const text = banner({ ...node, url: 'http://10.0.0.5:8545' } as unknown as StartedNode, {
      ...opts,
      bindAddr: '10.0.0.5',
    })
    expect(text).toContain('Listening on http://10.0.0.5:8545 (HTTP and WebSocket ws://10.0.0.5:8545)')
    expect(text).not.toContain('every interface')
    expect(text).toMatch(
      /WARNING: the dev accounts above are unlocked and the RPC is reachable from other machines on 10\.0\.0\.5/,
    )
  })

  it('without dev accounts there is nothing to warn about', () => {
    const text = banner({ ...node, accounts: [] } as unknown as StartedNode, { ...opts, bindAddr: '0.0.0.0' })
    expect(text).not.toContain('WARNING')
  })
})
