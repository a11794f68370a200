/**
 * A {@link DigestKey} as a viem account: what the arbitrage service and the reserves anchoring
 * commands sign transactions with, whatever holds the key (this process, an HSM). It signs what
 * viem's own local accounts sign, hashed the same way (transactions of every type, EIP-191
 * messages, EIP-712 typed data); it has no raw `sign({ hash })`, so a caller cannot have it sign an
 * arbitrary digest through the account.
 */
import { bytesToHex, hexToBytes } from '@cairn/utils'
import {
  getAddress,
  type Hex,
  hashMessage,
  hashTypedData,
  keccak256,
  type Signature,
  serializeSignature,
  serializeTransaction,
} from 'viem'
import { type LocalAccount, toAccount } from 'viem/accounts'
import type { DigestKey } from './digest-key.ts'

function signatureOf(key: DigestKey, hash: Hex): Signature {
  const sig = key.sign(hexToBytes(hash))
  const v = sig[64] as number
  return {
    r: bytesToHex(sig.subarray(0, 32)) as Hex,
    s: bytesToHex(sig.subarray(32, 64)) as Hex,
    v: BigInt(v),
    yParity: v - 27,
  }
}

/** The viem account of `key` (its address checksummed). */
export function digestKeyAccount(key: DigestKey): LocalAccount {
  return toAccount({
    address: getAddress(bytesToHex(key.address)),
    async signMessage({ message }) {
      return serializeSignature(signatureOf(key, hashMessage(message)))
    },
    async signTypedData(typedData) {
      return serializeSignature(signatureOf(key, hashTypedData(typedData)))
    },
    async signTransaction(tx, options) {
      const serializer = options?.serializer ?? serializeTransaction
      // as viem's own signTransaction: a blob transaction's hash leaves its sidecars out
      const signable = tx.type === 'eip4844' ? { ...tx, sidecars: false } : tx
      const hash = keccak256(await serializer(signable))
      return (await serializer(tx, signatureOf(key, hash))) as Hex
    },
  })
}
