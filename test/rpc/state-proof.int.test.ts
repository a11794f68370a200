// eth_getProof (verified by an independent trie walk against the block's state root), eth_call
// with state and block overrides, eth_createAccessList, and the eth_call time limit.
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME, send } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

let node: StartedNode
let url: string
let store: string

beforeAll(async () => {
  node = await startDevNode({ evmTimeoutMs: 2000 })
  url = node.url
  store = await deploy(url, STORE_RUNTIME)
  await send(url, { to: store, value: '0x4' }) // slot 0 = 5
})
afterAll(async () => {
  await node?.close()
})

type Node = Uint8Array | Node[]

/** Follows `key` (already hashed) from `root` through `proof`; the leaf's value, or null if absent. */
function walkProof(root: Uint8Array, key: Uint8Array, proof: string[]): Uint8Array | null {
  const byHash = new Map(proof.map((p) => [bytesToHex(keccak256(hexToBytes(p))), RLP.decode(hexToBytes(p)) as Node]))
  let nibbles = [...key].flatMap((b) => [b >> 4, b & 15])
  let node: Node | undefined = byHash.get(bytesToHex(root))
  if (!node) throw new Error('the proof does not start at the state root')
  for (;;) {
    if (!Array.isArray(node)) throw new Error('malformed node')
    if (node.length === 17) {
      if (nibbles.length === 0) return node[16] as Uint8Array
      const child = node[nibbles[0] as number] as Node
      nibbles = nibbles.slice(1)
      if (!Array.isArray(child) && child.length === 0) return null
      node = Array.isArray(child) ? child : byHash.get(bytesToHex(child))
    } else {
      const path = node[0] as Uint8Array
      const flag = (path[0] as number) >> 4
      const own = [...path].flatMap((b) => [b >> 4, b & 15]).slice(flag & 1 ? 1 : 2)
      if (own.some((n, i) => nibbles[i] !== n)) return null
      nibbles = nibbles.slice(own.length)
      if (flag >= 2) return nibbles.length === 0 ? (node[1] as Uint8Array) : null
      const child = node[1] as Node
      node = Array.isArray(child) ? child : byHash.get(bytesToHex(child))
    }
    if (!node) throw new Error('the proof misses a node on the path')
  }
}

describe('eth_getProof', () => {
  it('proves an account and its storage against the block state root', async () => {
    const block = await result<Record<string, string>>(url, 'eth_getBlockByNumber', ['latest', false])
    const proof = await result<Record<string, unknown>>(url, 'eth_getProof', [store, ['0x0', '0x1'], 'latest'])
    const stateRoot = hexToBytes(block.stateRoot as string)
    const leaf = walkProof(stateRoot, keccak256(hexToBytes(store)), proof.accountProof as string[])
    expect(leaf).not.toBeNull()
    const [nonce, balance, storageRoot, codeHash] = RLP.decode(leaf as Uint8Array) as Uint8Array[]
    expect(bytesToHex(storageRoot as Uint8Array)).toBe(proof.storageHash)
    expect(bytesToHex(codeHash as Uint8Array)).toBe(proof.codeHash)
    expect(BigInt(bytesToHex(balance as Uint8Array) === '0x' ? 0 : bytesToHex(balance as Uint8Array))).toBe(
      BigInt(proof.balance as string),
    )
    expect(BigInt(proof.nonce as string)).toBe(
      BigInt(bytesToHex(nonce as Uint8Array) === '0x' ? 0 : bytesToHex(nonce as Uint8Array)),
    )
    expect(proof.balance).toBe('0x4')
    const [slot0, slot1] = proof.storageProof as { key: string; value: string; proof: string[] }[]
    expect(slot0).toMatchObject({ key: '0x0', value: '0x5' })
    const v = walkProof(hexToBytes(proof.storageHash as string), keccak256(new Uint8Array(32)), slot0?.proof ?? [])
    expect(RLP.decode(v as Uint8Array)).toEqual(Uint8Array.of(5))
    expect(slot1).toMatchObject({ key: '0x1', value: '0x0' })
    const slot1Key = keccak256(hexToBytes(`0x${'00'.repeat(31)}01`))
    expect(walkProof(hexToBytes(proof.storageHash as string), slot1Key, slot1?.proof ?? [])).toBeNull()
  })

  it('echoes a key shorter than 32 bytes as a quantity and a 32-byte key as given (as geth)', async () => {
    const full = `0x${'00'.repeat(31)}01`
    const keys = ['0x00', '0x0001', full, `0x${'AB'.repeat(32)}`]
    const proof = await result<{ storageProof: { key: string }[] }>(url, 'eth_getProof', [store, keys, 'latest'])
    expect(proof.storageProof.map((p) => p.key)).toEqual(['0x0', '0x1', full, `0x${'ab'.repeat(32)}`])
  })

  it('proves an absent account (a proof of exclusion) and rejects a tampered proof', async () => {
    const someone = '0x2222222222222222222222222222222222222222'
    const block = await result<Record<string, string>>(url, 'eth_getBlockByNumber', ['latest', false])
    const proof = await result<Record<string, unknown>>(url, 'eth_getProof', [someone, [], 'latest'])
    expect(proof).toMatchObject({ balance: '0x0', nonce: '0x0', storageProof: [] })
    const root = hexToBytes(block.stateRoot as string)
    expect(walkProof(root, keccak256(hexToBytes(someone)), proof.accountProof as string[])).toBeNull()
    const real = await result<Record<string, string[]>>(url, 'eth_getProof', [ACCOUNT_0, [], 'latest'])
    const tampered = [...(real.accountProof as string[])]
    const last = tampered.length - 1
    tampered[last] = `${(tampered[last] as string).slice(0, -2)}00`
    expect(() => walkProof(root, keccak256(hexToBytes(ACCOUNT_0)), tampered)).toThrow()
  })

  it('verifies at an older block too (archive state)', async () => {
    const old = await result<Record<string, string>>(url, 'eth_getBlockByNumber', ['0x1', false])
    const proof = await result<Record<string, unknown>>(url, 'eth_getProof', [store, ['0x0'], '0x1'])
    const leaf = walkProof(
      hexToBytes(old.stateRoot as string),
      keccak256(hexToBytes(store)),
      proof.accountProof as string[],
    )
    expect(leaf).not.toBeNull()
    expect((proof.storageProof as { value: string }[])[0]?.value).toBe('0x0')
  })
})

describe('eth_call overrides', () => {
  const READ_SLOT0 = '0x60005460005260206000f3'
  const someone = '0x3333333333333333333333333333333333333333'

  it('state override: code, storage (state and stateDiff) and balance, without touching the chain', async () => {
    const out = await result(url, 'eth_call', [
      { to: someone },
      'latest',
      { [someone]: { code: READ_SLOT0, stateDiff: { '0x0': `0x${'00'.repeat(31)}2a` } } },
    ])
    expect(BigInt(out as string)).toBe(42n)
    // a full `state` replaces storage: slot 0 of the real contract reads 0 after it
    const replaced = await result(url, 'eth_call', [
      { to: store },
      'latest',
      { [store]: { code: READ_SLOT0, state: { '0x1': `0x${'00'.repeat(31)}01` } } },
    ])
    expect(BigInt(replaced as string)).toBe(0n)
    // a balance override lets a poor sender pay
    const rich = await call(url, 'eth_call', [
      { from: someone, to: store, value: '0xde0b6b3a7640000' },
      'latest',
      { [someone]: { balance: '0xffffffffffffffffffff' } },
    ])
    expect(rich.error).toBeUndefined()
    expect(await result(url, 'eth_getCode', [someone, 'latest'])).toBe('0x')
  })

  it('block override: number and time are what the call sees', async () => {
    const NUMBER = '0x4360005260206000f3'
    const TIME = '0x4260005260206000f3'
    const n = await result(url, 'eth_call', [
      { to: someone },
      'latest',
      { [someone]: { code: NUMBER } },
      { number: '0x1234' },
    ])
    expect(BigInt(n as string)).toBe(0x1234n)
    const t = await result(url, 'eth_call', [
      { to: someone },
      'latest',
      { [someone]: { code: TIME } },
      { time: '0x99' },
    ])
    expect(BigInt(t as string)).toBe(0x99n)
  })

  it('rejects a malformed override naming the field', async () => {
    const r = await call(url, 'eth_call', [{ to: someone }, 'latest', { [someone]: { balanec: '0x1' } }])
    expect(r.error?.code).toBe(-32602)
    expect(r.error?.message).toMatch(/argument 2/)
  })
})

describe('eth_createAccessList', () => {
  it('lists the contracts a call touches, without sender, recipient and precompiles, and gas used with it', async () => {
    // PUSH20 store EXTCODESIZE; PUSH1 0 SLOAD; PUSH1 1 PUSH1 4 GAS STATICCALL (identity precompile); STOP
    const runtime = `73${store.slice(2)}3b60005460006000600060006004 5afa00`.replace(/ /g, '')
    const probe = await deploy(url, runtime)
    const r = await result<{ accessList: { address: string; storageKeys: string[] }[]; gasUsed: string }>(
      url,
      'eth_createAccessList',
      [{ from: ACCOUNT_0, to: probe }],
    )
    expect(r.accessList).toEqual([{ address: store, storageKeys: [] }])
    expect(BigInt(r.gasUsed)).toBeGreaterThan(21000n)
  })
})

describe('time limit', () => {
  it('an eth_call that runs past the limit is aborted, and the node keeps serving', async () => {
    // JUMPDEST; CALL(gas, identity precompile, 0, 0, 0, 0, 0); POP; JUMP 0 — forever, one message per turn
    const looper = '0x5b600060006000600060006004 5af1 50 600056'.replace(/ /g, '')
    const someone = '0x4444444444444444444444444444444444444444'
    const r = await call(url, 'eth_call', [{ to: someone }, 'latest', { [someone]: { code: looper } }])
    expect(r.error?.message).toMatch(/execution aborted \(timeout = 2s\)/)
    expect(await result(url, 'eth_chainId')).toBe('0x539')
  })
})
