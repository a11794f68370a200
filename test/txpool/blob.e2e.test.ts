// Blob transactions against a real dev node (Osaka, over HTTP): viem sends one with `blobs` and a
// KZG (one proof per blob, as viem makes them: the node converts to cell proofs, as geth does), it is
// mined with its blob gas; a bad proof and a missing sidecar are refused with clear messages.
import { type BlobKzg, blobKzg } from '@cairn/crypto'
import { bytesToHex, type Hex } from '@cairn/utils'
import { createBlob4844Tx } from '@ethereumjs/tx'
import { createPublicClient, createWalletClient, http, toBlobs } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeBlobNetworkTx, versionedHash } from '../../packages/txpool/src/index.ts'
import { GWEI } from '../../packages/txpool/test/helpers.ts'
import { rpc, type StartedNode, startDev } from './node-helpers.ts'

const TO = '0x000000000000000000000000000000000000b10b' as Hex

describe('blob transactions through eth_sendRawTransaction on a dev node', () => {
  let node: StartedNode
  let kzg: BlobKzg
  beforeAll(async () => {
    node = await startDev()
    kzg = blobKzg()
    // The KZG setups (the worker's, and this thread's for making blobs) take seconds of CPU on
    // first use: made here, so that the first request does not wait for them.
    const blob = toBlobs({ data: '0x01' })[0] as Hex
    const bytes = Uint8Array.from(Buffer.from(blob.slice(2), 'hex'))
    const c = kzg.blobToCommitment(bytes)
    await kzg.verifyBlobProofs([bytes], [c], [kzg.computeBlobProof(bytes, c)])
  }, 120_000)
  afterAll(async () => {
    await node?.close()
  })

  it('viem sendTransaction with blobs and kzg: mined, the receipt has blobGasUsed, the transaction its blob fields', async () => {
    const account = privateKeyToAccount(bytesToHex(node.accounts[0]?.privateKey as Uint8Array) as Hex)
    // Converting viem's one proof per blob to cell proofs takes ~0.5 s per blob: over viem's 10 s
    // default only on a machine this busy, but a test must not depend on that.
    const wallet = createWalletClient({ account, transport: http(node.url, { timeout: 60_000 }) })
    const client = createPublicClient({ transport: http(node.url) })
    const blobs = toBlobs({ data: bytesToHex(new TextEncoder().encode('hello from a blob')) as Hex })
    const hash = await wallet.sendTransaction({
      chain: null,
      to: TO,
      blobs,
      maxFeePerBlobGas: 10n * GWEI,
      kzg: {
        blobToKzgCommitment: (blob) => kzg.blobToCommitment(blob),
        computeBlobKzgProof: (blob, commitment) => kzg.computeBlobProof(blob, commitment),
      },
    })
    const receipt = await client.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    expect(receipt.blobGasUsed).toBe(131072n)
    expect(receipt.blobGasPrice).toBe(1n)
    const tx = (await rpc(node.url, 'eth_getTransactionByHash', [hash])).result as Record<string, unknown>
    expect(tx.type).toBe('0x3')
    expect(tx.maxFeePerBlobGas).toBe(`0x${(10n * GWEI).toString(16)}`)
    expect(tx.blobVersionedHashes).toHaveLength(1)
    const block = (await rpc(node.url, 'eth_getBlockByHash', [receipt.blockHash, false])).result as Record<
      string,
      string
    >
    expect(block.blobGasUsed).toBe('0x20000')
    expect((await rpc(node.url, 'eth_blobBaseFee')).result).toBe('0x1')
    // Mined: the pool keeps neither it nor its blobs.
    expect(node.pool.blobStats).toEqual({ txs: 0, bytes: 0 })
    // Anvil's blob reads: the node kept the blobs it was sent (issue 55).
    const [vh] = tx.blobVersionedHashes as string[]
    expect((await rpc(node.url, 'anvil_getBlobByHash', [vh])).result).toBe(blobs[0])
    expect((await rpc(node.url, 'anvil_getBlobsByTransactionHash', [hash])).result).toEqual(blobs)
    expect((await rpc(node.url, 'anvil_getBlobByHash', [`0x01${'22'.repeat(31)}`])).result).toBeNull()
  }, 120_000)

  it('refuses a bad proof and a blob transaction without its sidecar, saying why', async () => {
    const key = node.accounts[1]?.privateKey as Uint8Array
    const blob = toBlobs({ data: '0x0102030405' })[0] as Hex
    const blobBytes = Uint8Array.from(Buffer.from(blob.slice(2), 'hex'))
    const commitment = kzg.blobToCommitment(blobBytes)
    const tx = createBlob4844Tx(
      {
        to: TO,
        gasLimit: 21000n,
        maxFeePerGas: 100n * GWEI,
        maxPriorityFeePerGas: GWEI,
        maxFeePerBlobGas: GWEI,
        blobVersionedHashes: [bytesToHex(versionedHash(commitment)) as Hex],
      },
      { common: node.chain.common },
    ).sign(key)
    const proofs = await kzg.computeCellProofs(blobBytes)
    const bad = [...proofs.slice(1), proofs[0] as Uint8Array]
    const raw = encodeBlobNetworkTx(tx, { version: 1, blobs: [blobBytes], commitments: [commitment], proofs: bad })
    const r = await rpc(node.url, 'eth_sendRawTransaction', [bytesToHex(raw)])
    expect(r.error?.code).toBe(-32000)
    expect(r.error?.message).toMatch(/^invalid blob proof/)
    const noSidecar = await rpc(node.url, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])
    expect(noSidecar.error).toEqual({ code: -32000, message: 'missing sidecar in blob transaction' })
    const garbled = await rpc(node.url, 'eth_sendRawTransaction', [bytesToHex(raw.subarray(0, 1000))])
    expect(garbled.error?.code).toBe(-32000)
    expect(garbled.error?.message).toMatch(/^invalid transaction/)
    const good = encodeBlobNetworkTx(tx, { version: 1, blobs: [blobBytes], commitments: [commitment], proofs })
    expect((await rpc(node.url, 'eth_sendRawTransaction', [bytesToHex(good)])).result).toBe(bytesToHex(tx.hash()))
  }, 120_000)
})
