import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { peerIdOf } from '../src/peer-ids.ts'

describe('peerIdOf', () => {
  it('parses a peer id once: the same PeerId for the same string, equal to the one it names', async () => {
    const id = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    const a = peerIdOf(id.toString())
    expect(a.equals(id)).toBe(true)
    expect(peerIdOf(id.toString())).toBe(a)
  })

  it('refuses what is not a peer id, and caches nothing for it', () => {
    expect(() => peerIdOf('not-a-peer-id')).toThrow()
    expect(() => peerIdOf('not-a-peer-id')).toThrow()
  })
})
