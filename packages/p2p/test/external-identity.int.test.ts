// A node whose identity key is held outside the process (P2pModules.identity: an HSM in
// production, a signer closure here): its peer id is the key's, peers complete the Noise handshake
// with it (they verify its signature), and a signer that does not match its public key, or does
// not sign, stops the start with P2P_IDENTITY instead of failing every handshake.
import { ecdsaSign, privateKeyToPublicKey, sha256 } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { type IdentitySigner, P2pErrorCode, peerIdOfSecp256k1, peerIdOfSecp256k1PublicKey } from '../src/index.ts'
import { type TestNode, testNode, waitFor } from './helpers.ts'

/** Fixed secp256k1 keys (SHA-256 of a label: below the order). */
const keyAt = (i: number) => sha256(new TextEncoder().encode(`p2p identity ${i}`))
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** A signer over `key` in this test; `highS` returns the malleable twin (n − s) of each signature. */
function signerOf(key: Uint8Array, o: { highS?: boolean; compressed?: boolean } = {}) {
  let calls = 0
  const signer: IdentitySigner = {
    publicKey: privateKeyToPublicKey(key, o.compressed ?? false),
    sign(digest) {
      calls++
      const { r, s } = ecdsaSign(digest, key)
      if (!o.highS) return new Uint8Array([...r, ...s])
      const high = N - BigInt(`0x${Buffer.from(s).toString('hex')}`)
      return new Uint8Array([...r, ...Buffer.from(high.toString(16).padStart(64, '0'), 'hex')])
    },
  }
  return { signer, calls: () => calls }
}

const nodes: TestNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})
async function node(o: Parameters<typeof testNode>[0] = {}): Promise<TestNode> {
  const n = await testNode(o)
  nodes.push(n)
  return n
}

async function startError(identity: IdentitySigner): Promise<CairnError> {
  const err = await node({ identity }).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CairnError)
  return err as CairnError
}

describe('a node identity held outside the process', () => {
  it('is known by its public key and completes handshakes both ways, its high-s signatures made low', async () => {
    const key = keyAt(2)
    const held = signerOf(key, { highS: true })
    const a = await node({ identity: held.signer })
    expect(a.net.peerId).toBe(peerIdOfSecp256k1(key))
    expect(peerIdOfSecp256k1PublicKey(privateKeyToPublicKey(key, true))).toBe(a.net.peerId)

    // B dials A (A signs as responder), then C is dialled by A (A signs as initiator).
    const b = await node({ p2p: { bootnodes: [a.net.nodeInfo().listenAddrs[0] as string] } })
    await waitFor(() => a.net.peerCount() === 1 && b.net.peerCount() === 1, 'B connected to A')
    const c = await node()
    expect(await a.net.addPeer(c.net.nodeInfo().listenAddrs[0] as string)).toBe(true)
    await waitFor(() => c.net.peerCount() === 1, 'A connected to C')
    expect(c.net.peers().map((p) => p.id)).toEqual([a.net.peerId])
    // The start's check and one handshake signature per connection, at least.
    expect(held.calls()).toBeGreaterThanOrEqual(3)
  })

  it('takes a compressed public key as well', async () => {
    const key = keyAt(3)
    const a = await node({ identity: signerOf(key, { compressed: true }).signer })
    expect(a.net.peerId).toBe(peerIdOfSecp256k1(key))
  })

  it('refuses at start a signer whose signatures are not of its public key', async () => {
    const { signer } = signerOf(keyAt(4))
    const err = await startError({ publicKey: privateKeyToPublicKey(keyAt(5)), sign: signer.sign })
    expect(err.code).toBe(P2pErrorCode.IDENTITY)
    expect(err.message).toMatch(/does not verify against its public key/)
  })

  it('refuses at start a signer that does not sign, and a public key that is not secp256k1', async () => {
    const down = await startError({
      publicKey: privateKeyToPublicKey(keyAt(4)),
      sign: () => {
        throw new Error('token removed')
      },
    })
    expect(down.code).toBe(P2pErrorCode.IDENTITY)
    expect(down.message).toMatch(/does not sign: token removed/)
    const bad = await startError({ publicKey: new Uint8Array(40), sign: () => new Uint8Array(64) })
    expect(bad.code).toBe(P2pErrorCode.IDENTITY)
    expect(bad.message).toMatch(/not secp256k1/)
  })
})
