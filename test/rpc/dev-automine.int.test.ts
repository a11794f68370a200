// Automine as Anvil's and Hardhat's: eth_sendTransaction answers once its block is the head (on a
// persistent datadir too, where the journal's sync used to let the answer overtake the block), and
// a transaction dropped at execution is an error to its sender, never a hash that vanishes. Mining
// modes, the next block's fields and the node's self-description over real HTTP.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0 } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const SOMEONE = '0x1111111111111111111111111111111111111111'
const CONTRACT = '0x3333333333333333333333333333333333333333'

let node: StartedNode
let url: string
let datadir: string
beforeAll(async () => {
  datadir = mkdtempSync(join(tmpdir(), 'cairn-automine-'))
  node = await startDevNode({}, { flags: { ephemeral: false, datadir, 'rpc.clientVersion': 'anvil/v1.7.1' } })
  url = node.url
})
afterAll(async () => {
  await node?.close()
  rmSync(datadir, { recursive: true, force: true })
})

describe('eth_sendTransaction in automine', () => {
  it('answers after the block: the receipt and the new state are there on the first read', async () => {
    for (let i = 0; i < 30; i++) {
      const before = BigInt(await result<string>(url, 'eth_getBalance', [SOMEONE, 'latest']))
      const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: SOMEONE, value: '0x7' }])
      expect(await result(url, 'eth_getTransactionReceipt', [hash])).toMatchObject({ status: '0x1' })
      expect(BigInt(await result<string>(url, 'eth_getBalance', [SOMEONE, 'latest']))).toBe(before + 7n)
    }
  })

  it('an impersonated account with code sends (no EIP-3607, as Anvil); its code stays', async () => {
    await result(url, 'anvil_setCode', [CONTRACT, '0x00'])
    await result(url, 'anvil_setBalance', [CONTRACT, '0xde0b6b3a7640000'])
    await result(url, 'anvil_impersonateAccount', [CONTRACT])
    const before = BigInt(await result<string>(url, 'eth_getBalance', [SOMEONE, 'latest']))
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: CONTRACT, to: SOMEONE, value: '0x1' }])
    expect(await result(url, 'eth_getTransactionReceipt', [hash])).toMatchObject({ status: '0x1', from: CONTRACT })
    expect(BigInt(await result<string>(url, 'eth_getBalance', [SOMEONE, 'latest']))).toBe(before + 1n)
    expect(await result(url, 'eth_getCode', [CONTRACT, 'latest'])).toBe('0x00')
    // Replayed (tracing) as it was built.
    expect(await result(url, 'debug_traceTransaction', [hash, { tracer: 'callTracer' }])).toMatchObject({
      from: CONTRACT,
      to: SOMEONE,
      value: '0x1',
    })
    await result(url, 'anvil_stopImpersonatingAccount', [CONTRACT])
  })

  it('a transaction that cannot fit the block gas limit is an error, not a hash that hangs or vanishes', async () => {
    await result(url, 'evm_setBlockGasLimit', ['0x7a120'])
    try {
      const sent = await call(url, 'eth_sendTransaction', [
        { from: ACCOUNT_0, to: SOMEONE, value: '0x1', gas: '0x989680' },
      ])
      expect(sent.error?.code).toBe(-32000)
      expect(await result(url, 'txpool_status')).toEqual({ pending: '0x0', queued: '0x0' })
    } finally {
      await result(url, 'evm_setBlockGasLimit', ['0x1c9c380'])
    }
  })

  it('a transaction whose fee cap is below the base fee is answered at once (it waits in the pool)', async () => {
    const sent = await call(url, 'eth_sendTransaction', [
      { from: ACCOUNT_0, to: SOMEONE, value: '0x1', maxFeePerGas: '0x1', maxPriorityFeePerGas: '0x0' },
    ])
    expect(sent.error).toBeUndefined()
    expect(await result(url, 'eth_getTransactionReceipt', [sent.result])).toBeNull()
    expect(await result(url, 'anvil_dropTransaction', [sent.result])).toBe(sent.result)
  })

  it('a nonce-gapped transaction is answered at once (it waits in the pool, as on Anvil)', async () => {
    const nonce = BigInt(await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'pending']))
    const gapped = `0x${(nonce + 1n).toString(16)}`
    const hash = await result<string>(url, 'eth_sendTransaction', [
      { from: ACCOUNT_0, to: SOMEONE, value: '0x1', nonce: gapped },
    ])
    expect(await result(url, 'eth_getTransactionReceipt', [hash])).toBeNull()
    // Filling the gap seals both.
    await result(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: SOMEONE, value: '0x1' }])
    expect(await result(url, 'eth_getTransactionReceipt', [hash])).toMatchObject({ status: '0x1' })
  })
})

describe('mining modes', () => {
  it('evm_setAutomine false: sends are answered unsealed; evm_mine seals them', async () => {
    await result(url, 'evm_setAutomine', [false])
    expect(await result(url, 'anvil_getAutomine')).toBe(false)
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: SOMEONE, value: '0x1' }])
    expect(await result(url, 'eth_getTransactionReceipt', [hash])).toBeNull()
    await result(url, 'evm_mine')
    expect(await result(url, 'eth_getTransactionReceipt', [hash])).toMatchObject({ status: '0x1' })
    await result(url, 'evm_setAutomine', [true])
    expect(await result(url, 'anvil_getAutomine')).toBe(true)
  })

  it('anvil_setNextBlockBaseFeePerGas: the next block has it, and a send pays it', async () => {
    const fee = 50_000_000_000n
    await result(url, 'anvil_setNextBlockBaseFeePerGas', [`0x${fee.toString(16)}`])
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: SOMEONE, value: '0x1' }])
    const r = await result<{ blockNumber: string }>(url, 'eth_getTransactionReceipt', [hash])
    const block = await result<{ baseFeePerGas: string }>(url, 'eth_getBlockByNumber', [r.blockNumber, false])
    expect(BigInt(block.baseFeePerGas)).toBe(fee)
  })

  it('the fee quotes follow the next block base fee that was set, as Anvil 1.7.1 quotes them', async () => {
    // Anvil: after anvil_setNextBlockBaseFeePerGas(50 gwei), eth_gasPrice is 51 gwei (the fee and
    // its 1 gwei tip) and eth_feeHistory's next-block entry is 50 gwei; once mined, a history that
    // ends before the head gives the child's own base fee, not an EIP-1559 estimate.
    const fee = 50_000_000_000n
    await result(url, 'anvil_setNextBlockBaseFeePerGas', [`0x${fee.toString(16)}`])
    const tip = BigInt(await result<string>(url, 'eth_maxPriorityFeePerGas'))
    expect(BigInt(await result<string>(url, 'eth_gasPrice'))).toBe(fee + tip)
    const quoted = await result<{ baseFeePerGas: string[] }>(url, 'eth_feeHistory', ['0x1', 'latest', []])
    expect(BigInt(quoted.baseFeePerGas[1] as string)).toBe(fee)
    await result(url, 'evm_mine')
    const head = BigInt(await result<string>(url, 'eth_blockNumber'))
    const past = await result<{ baseFeePerGas: string[] }>(url, 'eth_feeHistory', [
      '0x1',
      `0x${(head - 1n).toString(16)}`,
      [],
    ])
    expect(BigInt(past.baseFeePerGas[1] as string)).toBe(fee)
  })

  it('a pending call sees a base fee set after it was last asked, with the next timestamp fixed', async () => {
    // Initcode returning BASEFEE (BASEFEE PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN): what a pending
    // call runs in is the next block, whose header is cached while its inputs stay the same. A fee
    // cap is given: without one a call runs with a zero base fee (as geth's).
    const call = { from: ACCOUNT_0, data: '0x4860005260206000f3', maxFeePerGas: '0xe8d4a51000' }
    const baseFeeAtPending = async () => BigInt(await result<string>(url, 'eth_call', [call, 'pending']))
    const head = await result<{ timestamp: string }>(url, 'eth_getBlockByNumber', ['latest', false])
    await result(url, 'evm_setNextBlockTimestamp', [`0x${(BigInt(head.timestamp) + 100n).toString(16)}`])
    const before = await baseFeeAtPending()
    const fee = before + 7_000_000_000n
    await result(url, 'anvil_setNextBlockBaseFeePerGas', [`0x${fee.toString(16)}`])
    expect(await baseFeeAtPending()).toBe(fee)
    await result(url, 'evm_mine')
  })
})

describe('the node describes itself', () => {
  it('web3_clientVersion and the metadata answer the configured client version', async () => {
    expect(await result(url, 'web3_clientVersion')).toBe('anvil/v1.7.1')
    const meta = await result<Record<string, unknown>>(url, 'hardhat_metadata')
    expect(meta).toMatchObject({ clientVersion: 'anvil/v1.7.1', clientSemver: '1.7.1', chainId: 1337 })
    expect(meta.latestBlockHash).toBe(
      (await result<{ hash: string }>(url, 'eth_getBlockByNumber', ['latest', false])).hash,
    )
    const first = meta.instanceId
    expect(await result<Record<string, unknown>>(url, 'anvil_metadata')).toMatchObject({ instanceId: first })
    await result(url, 'anvil_reset')
    expect((await result<Record<string, unknown>>(url, 'anvil_metadata')).instanceId).not.toBe(first)
  })
})
