// Issue 14 item 5: eth_sendRawTransaction's decoding must leave the chain's shared Common as it is
// (it used to give the shared instance, which `copy()` returns, its own `updateParams`).
import { createChainCommon } from '@cairn/chain'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { decodeRawTx } from '../src/methods/eth-send.ts'

const KEY = Uint8Array.from(Buffer.from('ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', 'hex'))

describe('decodeRawTx', () => {
  it("keeps the shared Common's own updateParams, and decodes with it", () => {
    const common = createChainCommon({ chainId: 1337n, hardfork: 'osaka' })
    const updateParams = common.updateParams
    const raw = createFeeMarket1559Tx(
      { nonce: 0n, gasLimit: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, to: `0x${'11'.repeat(20)}` },
      { common },
    )
      .sign(KEY)
      .serialize()
    const tx = decodeRawTx(common, raw)
    expect(common.updateParams).toBe(updateParams)
    expect(tx.common).toBe(common)
    expect(tx.serialize()).toEqual(raw)
  })
})
