/**
 * digestKeyAccount against viem's own local account, differentially: with the key in this process
 * both sign with RFC 6979, so every signature must be byte for byte viem's, over seeded random
 * transactions of each type, messages and typed data. Any difference in what is hashed (a field
 * left out, the wrong serializer, a v off by one) shows as a different signature.
 */
import { bytesToHex } from '@cairn/utils'
import { type Hex, parseTransaction, recoverTransactionAddress, type TransactionSerializable } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { digestKeyAccount } from '../src/account.ts'
import { rawDigestKey } from '../src/digest-key.ts'

/** A seeded generator (mulberry32): a failing case replays from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function bytes(r: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256))
}

function randomTx(r: () => number): TransactionSerializable {
  const to = bytesToHex(bytes(r, 20)) as Hex
  const data = bytesToHex(bytes(r, Math.floor(r() * 70))) as Hex
  const value = BigInt(Math.floor(r() * 1e15)) * 10n ** BigInt(Math.floor(r() * 4))
  const nonce = Math.floor(r() * 1000)
  const gas = 21_000n + BigInt(Math.floor(r() * 1e6))
  const chainId = [1, 1337, 31337, 8_453][Math.floor(r() * 4)] as number
  const accessList = [{ address: to, storageKeys: [bytesToHex(bytes(r, 32)) as Hex] }]
  switch (Math.floor(r() * 4)) {
    case 0:
      return { type: 'legacy', to, data, value, nonce, gas, gasPrice: BigInt(Math.floor(r() * 1e11)), chainId }
    case 1:
      return { type: 'eip2930', to, data, value, nonce, gas, gasPrice: 7n * 10n ** 9n, chainId, accessList }
    case 2:
      return {
        type: 'eip1559',
        to,
        data,
        value,
        nonce,
        gas,
        maxFeePerGas: 30n * 10n ** 9n,
        maxPriorityFeePerGas: BigInt(Math.floor(r() * 1e9)),
        chainId,
        accessList,
      }
    default:
      // a contract creation (no `to`)
      return { type: 'eip1559', data: '0x6080', value: 0n, nonce, gas, maxFeePerGas: 10n ** 9n, chainId }
  }
}

describe('digestKeyAccount', () => {
  it('signs 200 random transactions exactly as viem does (seeded; recovers to its address)', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed)
      const key = bytes(r, 32)
      key[0] = (key[0] as number) & 0x7f // below the curve order
      const ours = digestKeyAccount(rawDigestKey(key))
      const theirs = privateKeyToAccount(bytesToHex(key) as Hex)
      expect(ours.address, `seed ${seed}`).toBe(theirs.address)
      const tx = randomTx(r)
      const signed = await ours.signTransaction(tx)
      expect(signed, `seed ${seed}: ${tx.type}`).toBe(await theirs.signTransaction(tx))
      expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(theirs.address)
      expect(parseTransaction(signed).chainId).toBe(tx.chainId)
    }
  })

  it('signs EIP-191 messages and EIP-712 typed data as viem does', async () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i + 7)
    const ours = digestKeyAccount(rawDigestKey(key))
    const theirs = privateKeyToAccount(bytesToHex(key) as Hex)
    for (const message of ['hello', '', { raw: '0xdeadbeef' as Hex }])
      expect(await ours.signMessage({ message })).toBe(await theirs.signMessage({ message }))
    const typed = {
      domain: { name: 'Cairn', version: '1', chainId: 1337, verifyingContract: theirs.address },
      types: {
        Mail: [
          { name: 'to', type: 'address' },
          { name: 'amount', type: 'uint256' },
        ],
      },
      primaryType: 'Mail' as const,
      message: { to: theirs.address, amount: 12345n },
    }
    expect(await ours.signTypedData(typed)).toBe(await theirs.signTypedData(typed))
  })

  it('has no raw digest signing: a caller cannot have it sign an arbitrary hash', () => {
    const ours = digestKeyAccount(rawDigestKey(Uint8Array.from({ length: 32 }, () => 9)))
    expect(ours.sign).toBeUndefined()
  })

  it('a key that cannot sign (a token gone) throws, and no transaction comes out', async () => {
    const gone = {
      address: new Uint8Array(20),
      sign: () => {
        throw new Error('token removed')
      },
    }
    await expect(
      digestKeyAccount(gone).signTransaction({
        to: '0x' + '11'.repeat(20),
        chainId: 1,
        gas: 21000n,
        gasPrice: 1n,
      } as never),
    ).rejects.toThrow('token removed')
  })
})
