// A transaction signed for another chain is refused in geth's words — `invalid sender: invalid
// chain id for signer: have X want Y` — for every type, EIP-155 legacy included, never with
// @ethereumjs's JavaScript ("Pass a matching `common` option to createLegacyTx", a function's source).

import { bytesToHex, silentLogger } from '@cairn/utils'
import { Common, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import { createLegacyTx, createTx } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { KEYS, openChain } from '../../chain/test/helpers.ts'
import { ALL_METHODS, DEFAULT_RPC_LIMITS, type RpcContext, RpcDispatcher } from '../src/index.ts'
import { txRefusalMessage } from '../src/tx-errors.ts'

const mainnet = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
const TO: `0x${string}` = `0x${'11'.repeat(20)}`

/** Transaction `type` signed for chain 1 (mainnet), raw. */
function signedForMainnet(type: 0 | 1 | 2): string {
  const fees = type === 2 ? { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n } : { gasPrice: 10n ** 10n }
  const tx = createTx({ type, gasLimit: 21_000n, to: TO, value: 1n, ...fees }, { common: mainnet })
  return bytesToHex(tx.sign(KEYS[0] as Uint8Array).serialize())
}

describe('chain-id mismatches in geth words', () => {
  it.each([
    0, 1, 2,
  ] as const)('eth_sendRawTransaction of a type-%i transaction for chain 1 on chain 1337', async (type) => {
    const chain = await openChain()
    expect(chain.chainId).toBe(1337n)
    const ctx = { chain, limits: DEFAULT_RPC_LIMITS, logger: silentLogger, dev: null } as unknown as RpcContext
    const d = new RpcDispatcher({ dev: false }, { ctx, methods: ALL_METHODS, metrics: null, logger: silentLogger })
    const r = await d.handle({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_sendRawTransaction',
      params: [signedForMainnet(type)],
    })
    expect(r?.error).toEqual({ code: -32000, message: 'invalid sender: invalid chain id for signer: have 1 want 1337' })
  })

  it('a legacy v that is no EIP-155 signature for this chain: chain 0 for 35/36, else a bad signature', () => {
    const c1337 = createCustomCommon({ chainId: 1337 }, Mainnet, { hardfork: Hardfork.Prague })
    const refusal = (v: bigint) => {
      try {
        createLegacyTx({ gasLimit: 21_000n, gasPrice: 1n, to: TO, v, r: 1n, s: 1n }, { common: c1337 })
      } catch (err) {
        return txRefusalMessage(err, 1337n)
      }
      throw new Error(`v = ${v} accepted`)
    }
    expect(refusal(35n)).toBe('invalid sender: invalid chain id for signer: have 0 want 1337')
    expect(refusal(30n)).toBe('invalid sender: invalid transaction v, r, s values')
    expect(refusal(2n * 5n + 36n)).toBe('invalid sender: invalid chain id for signer: have 5 want 1337')
    // Anything else keeps the library's own words after geth's prefix.
    expect(
      txRefusalMessage(new Error('gas limit * gasPrice cannot exceed MAX_INTEGER (2^256-1) (tx type=0)'), 1n),
    ).toBe('invalid transaction: gas limit * gasPrice cannot exceed MAX_INTEGER (2^256-1)')
  })
})
