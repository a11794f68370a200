// State edits without a block (anvil_setBalance and kin), as Anvil makes them, on an in-process
// dev node over HTTP: the head does not move, reads at the head (latest, pending, its number and
// hash), calls, estimates and the pool see the edit at once, and the next block starts from it;
// snapshots, rollback, reset and a restart on the same datadir treat it as Anvil's state would be.
// (The same sequences side by side with Anvil: packages/node/test/e2e/anvil-dev-methods.e2e.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0 } from './bytecode.ts'
import { call, receipt, result, type StartedNode, startDevNode } from './live-node.ts'

type Hex = `0x${string}`
type Header = { number: Hex; hash: Hex; stateRoot: Hex }

const word = (n: bigint | number) => `0x${BigInt(n).toString(16).padStart(64, '0')}`
const qty = (n: bigint | number) => `0x${BigInt(n).toString(16)}`
/** A fresh address per use: 0x…e0NN. */
let fresh = 0
const freshAddress = () => `0x${'00'.repeat(18)}e0${(fresh++).toString(16).padStart(2, '0')}` as Hex
/** Runtime: returns SLOAD(0) + BALANCE(0x…beef); reverts with 0xdead when that sum is 13. */
const READER_CODE = '0x61beef316000540180600052600d1460175760206000f35b61dead6000526002601efd'
const BEEF = `0x${'00'.repeat(18)}beef`

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
  await result(url, 'evm_mine') // so that the head has a parent to read at
})
afterAll(async () => {
  await node?.close()
})

const head = () => result<Header>(url, 'eth_getBlockByNumber', ['latest', false])

/** An edit and the read that shows it: [edit method, params, read method, read params (no block), the value read after]. */
type EditCase = { edit: string; params: unknown[]; read: string; readParams: unknown[]; value: string }

function cases(): EditCase[] {
  const a = Array.from({ length: 12 }, freshAddress)
  const dump = JSON.stringify({ accounts: { [a[11] as Hex]: { nonce: 0, balance: '0x77', code: '0x', storage: {} } } })
  return [
    { edit: 'anvil_setBalance', params: [a[0], '0x1234'], read: 'eth_getBalance', readParams: [a[0]], value: '0x1234' },
    { edit: 'hardhat_setBalance', params: [a[1], 4660], read: 'eth_getBalance', readParams: [a[1]], value: '0x1234' },
    { edit: 'anvil_addBalance', params: [a[2], '0x10'], read: 'eth_getBalance', readParams: [a[2]], value: '0x10' },
    {
      edit: 'anvil_setNonce',
      params: [a[3], '0x7'],
      read: 'eth_getTransactionCount',
      readParams: [a[3]],
      value: '0x7',
    },
    {
      edit: 'hardhat_setNonce',
      params: [a[4], '0x8'],
      read: 'eth_getTransactionCount',
      readParams: [a[4]],
      value: '0x8',
    },
    {
      edit: 'evm_setAccountNonce',
      params: [a[5], '0x9'],
      read: 'eth_getTransactionCount',
      readParams: [a[5]],
      value: '0x9',
    },
    { edit: 'anvil_setCode', params: [a[6], READER_CODE], read: 'eth_getCode', readParams: [a[6]], value: READER_CODE },
    { edit: 'hardhat_setCode', params: [a[7], '0x6001'], read: 'eth_getCode', readParams: [a[7]], value: '0x6001' },
    {
      edit: 'anvil_setStorageAt',
      params: [a[8], '0x5', word(0x2a)],
      read: 'eth_getStorageAt',
      readParams: [a[8], '0x5'],
      value: word(0x2a),
    },
    {
      edit: 'hardhat_setStorageAt',
      params: [a[9], '0x0', word(7)],
      read: 'eth_getStorageAt',
      readParams: [a[9], '0x0'],
      value: word(7),
    },
    {
      edit: 'anvil_loadState',
      params: [bytesToHex(new TextEncoder().encode(dump))],
      read: 'eth_getBalance',
      readParams: [a[11]],
      value: '0x77',
    },
  ]
}

describe('each state edit changes the head state without a block', () => {
  for (const c of cases()) {
    it(`${c.edit}: seen at the head at once; the next block starts from it`, async () => {
      const before = await head()
      const parent = qty(BigInt(before.number) - 1n)
      const old = await result(url, c.read, [...c.readParams, 'latest'])
      await result(url, c.edit, c.params)

      // No block: the head, its hash and its header's state root are as sealed.
      expect(await head()).toEqual(before)
      // Every name of the head sees the edit (as Anvil), the parent does not.
      for (const at of [
        'latest',
        'pending',
        before.number,
        { blockHash: before.hash },
        { blockNumber: before.number },
      ]) {
        expect(await result(url, c.read, [...c.readParams, at]), JSON.stringify(at)).toBe(c.value)
      }
      expect(await result(url, c.read, [...c.readParams, parent])).toBe(old)

      // The next block starts from the edited state: its header's state root proves the value.
      await result(url, 'evm_mine')
      const next = await head()
      expect(BigInt(next.number)).toBe(BigInt(before.number) + 1n)
      expect(await result(url, c.read, [...c.readParams, 'latest'])).toBe(c.value)
      const account = (c.readParams[0] as Hex).toLowerCase()
      const proof = await result<{ accountProof: Hex[]; balance: Hex; nonce: Hex }>(url, 'eth_getProof', [
        account,
        [],
        'latest',
      ])
      expect(bytesToHex(keccak256(hexToBytes(proof.accountProof[0] as Hex)))).toBe(next.stateRoot)
      if (c.read === 'eth_getBalance') expect(proof.balance).toBe(c.value)
      if (c.read === 'eth_getTransactionCount') expect(proof.nonce).toBe(c.value)
      // The old head keeps its edited state (Anvil edits the head's state in place).
      expect(await result(url, c.read, [...c.readParams, before.number])).toBe(c.value)
    })
  }
})

describe('calls, estimates and the pool see an edit without a block', () => {
  it('eth_call and eth_estimateGas at latest and pending; a remembered call outcome never hides an edit', async () => {
    const reader = freshAddress()
    await result(url, 'anvil_setCode', [reader, READER_CODE])
    const at = (tag: string) => result<Hex>(url, 'eth_call', [{ to: reader }, tag])
    expect(await at('latest')).toBe(word(0))
    expect(await at('latest')).toBe(word(0)) // now remembered
    const number = (await head()).number
    await result(url, 'anvil_setStorageAt', [reader, '0x0', word(5)])
    await result(url, 'anvil_setBalance', [BEEF, '0x3'])
    expect((await head()).number).toBe(number)
    for (const tag of ['latest', 'pending', number]) expect(await at(tag), tag).toBe(word(8))
    // 13 reverts: the estimate runs on the edited state too.
    await result(url, 'anvil_setStorageAt', [reader, '0x0', word(10)])
    const reverted = await call(url, 'eth_estimateGas', [{ to: reader }])
    expect(reverted.error).toMatchObject({ code: 3, data: '0xdead' })
    await result(url, 'anvil_setStorageAt', [reader, '0x0', word(11)])
    expect(BigInt(await result<Hex>(url, 'eth_estimateGas', [{ to: reader }]))).toBeGreaterThan(21_000n)
    expect(await at('latest')).toBe(word(14))
  })

  it('a send from an account funded (and its nonce set) by edits is admitted and sealed in one block; its trace replays on the edited state', async () => {
    const sender = freshAddress()
    const to = freshAddress()
    await result(url, 'anvil_impersonateAccount', [sender])
    const number = BigInt((await head()).number)
    const refused = await call(url, 'eth_sendTransaction', [{ from: sender, to, value: '0x1' }])
    expect(refused.error?.message).toMatch(/insufficient funds/)
    await result(url, 'anvil_setBalance', [sender, '0xde0b6b3a7640000'])
    await result(url, 'anvil_setNonce', [sender, '0x5'])
    expect(await result(url, 'eth_getTransactionCount', [sender, 'pending'])).toBe('0x5')
    const hash = await result<Hex>(url, 'eth_sendTransaction', [{ from: sender, to, value: '0x1' }])
    const r = await receipt(url, hash)
    expect(r.status).toBe('0x1')
    expect(BigInt(r.blockNumber as Hex)).toBe(number + 1n)
    expect((await result<{ nonce: Hex }>(url, 'eth_getTransactionByHash', [hash])).nonce).toBe('0x5')
    const trace = await result<{ error?: string; value: Hex }>(url, 'debug_traceTransaction', [
      hash,
      { tracer: 'callTracer' },
    ])
    expect(trace.error).toBeUndefined()
    expect(trace.value).toBe('0x1')
    await result(url, 'anvil_stopImpersonatingAccount', [sender])
  })

  it('automine off: an edit makes a pooled transaction executable; evm_mine seals it on the edited state', async () => {
    const sender = freshAddress()
    await result(url, 'anvil_impersonateAccount', [sender])
    await result(url, 'evm_setAutomine', [false])
    try {
      const number = (await head()).number
      await result(url, 'anvil_setBalance', [sender, '0xde0b6b3a7640000'])
      const hash = await result<Hex>(url, 'eth_sendTransaction', [{ from: sender, to: BEEF, value: '0x1' }])
      expect(await result(url, 'eth_getTransactionCount', [sender, 'pending'])).toBe('0x1')
      expect(await result(url, 'eth_getTransactionCount', [sender, 'latest'])).toBe('0x0')
      expect((await head()).number).toBe(number)
      await result(url, 'evm_mine')
      expect((await receipt(url, hash)).status).toBe('0x1')
    } finally {
      await result(url, 'evm_setAutomine', [true])
      await result(url, 'anvil_stopImpersonatingAccount', [sender])
    }
  })
})

describe('snapshots, rollback and reset', () => {
  const X = freshAddress()
  const balance = () => result<Hex>(url, 'eth_getBalance', [X, 'latest'])

  it('evm_revert keeps the edits made before the snapshot and undoes those after it', async () => {
    await result(url, 'anvil_setBalance', [X, '0x100'])
    const snap = await result<Hex>(url, 'evm_snapshot')
    await result(url, 'anvil_setBalance', [X, '0x200'])
    expect(await balance()).toBe('0x200')
    expect(await result(url, 'evm_revert', [snap])).toBe(true)
    expect(await balance()).toBe('0x100')

    const number = (await head()).number
    const again = await result<Hex>(url, 'evm_snapshot')
    await result(url, 'anvil_setBalance', [X, '0x300'])
    await result(url, 'evm_mine')
    await result(url, 'anvil_setBalance', [X, '0x400'])
    expect(await result(url, 'evm_revert', [again])).toBe(true)
    expect((await head()).number).toBe(number)
    expect(await balance()).toBe('0x100')
    // The pool reads the restored state too: a send from X (impersonated) sees 0x100 wei.
    await result(url, 'anvil_impersonateAccount', [X])
    const poor = await call(url, 'eth_sendTransaction', [{ from: X, to: BEEF, value: '0x101', gasPrice: '0x0' }])
    expect(poor.error?.message).toMatch(/insufficient funds/)
    await result(url, 'anvil_stopImpersonatingAccount', [X])
  })

  it('anvil_rollback returns to the state the block had, its edits included (as Anvil)', async () => {
    await result(url, 'anvil_setBalance', [X, '0x500'])
    await result(url, 'evm_mine')
    await result(url, 'anvil_setBalance', [X, '0x600'])
    await result(url, 'anvil_rollback', [1])
    expect(await balance()).toBe('0x500')
    await result(url, 'evm_mine')
    expect(await balance()).toBe('0x500')
  })

  it("anvil_reorg builds on the ancestor's state, its edits included; the replaced blocks' edits go (as Anvil)", async () => {
    await result(url, 'anvil_setBalance', [X, '0x510'])
    await result(url, 'evm_mine')
    await result(url, 'anvil_setBalance', [X, '0x520'])
    const number = (await head()).number
    await result(url, 'anvil_reorg', [1, []])
    expect((await head()).number).toBe(number)
    expect(await balance()).toBe('0x510')
    await result(url, 'anvil_setBalance', [X, '0x530'])
    await result(url, 'anvil_reorg', [2, []])
    // The ancestor two blocks down had 0x500 (the rollback test's), its child's edit (0x510) is gone too.
    expect(await balance()).toBe('0x500')
  })

  it('anvil_reorg that seals the same block again drops its edits from pending reads too (the pool)', async () => {
    // Blocks one second apart: the reorg's empty block on the same parent is the replaced block
    // again, byte for byte (same hash), so the chain emits no event; the pool must still forget
    // the edit (a differential run against Anvil found `pending` keeping it).
    await result(url, 'anvil_setBlockTimestampInterval', [1])
    try {
      await result(url, 'evm_mine')
      const sealed = await head()
      const Y = freshAddress()
      await result(url, 'anvil_setNonce', [Y, '0x1'])
      expect(await result(url, 'eth_getTransactionCount', [Y, 'pending'])).toBe('0x1')
      await result(url, 'anvil_reorg', [1, []])
      expect((await head()).hash).toBe(sealed.hash)
      for (const tag of ['latest', 'pending', sealed.number]) {
        expect(await result(url, 'eth_getTransactionCount', [Y, tag]), tag).toBe('0x0')
      }
    } finally {
      await result(url, 'anvil_removeBlockTimestampInterval')
    }
  })

  it('anvil_reset drops every edit', async () => {
    await result(url, 'anvil_setBalance', [X, '0x700'])
    await result(url, 'anvil_setNonce', [ACCOUNT_0, '0x50'])
    await result(url, 'anvil_reset')
    expect((await head()).number).toBe('0x0')
    expect(await balance()).toBe('0x0')
    expect(await result(url, 'eth_getTransactionCount', [ACCOUNT_0, 'pending'])).toBe('0x0')
    await result(url, 'anvil_setBalance', [X, '0x800'])
    expect((await head()).number).toBe('0x0')
    expect(await balance()).toBe('0x800')
  })
})

describe('an edit not yet in a block, across a restart of a persistent datadir', () => {
  it('is kept: the head state is read back and the next block starts from it', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'cairn-edits-restart-'))
    const start = () => startDevNode({}, { flags: { ephemeral: false, datadir } })
    const Y = freshAddress()
    let first: StartedNode | undefined = await start()
    let second: StartedNode | undefined
    try {
      await result(first.url, 'anvil_setBalance', [Y, '0x4242'])
      await result(first.url, 'anvil_setCode', [Y, '0x6001'])
      const number = await result<Hex>(first.url, 'eth_blockNumber')
      await first.close()
      first = undefined

      second = await start()
      expect(await result(second.url, 'eth_blockNumber')).toBe(number)
      expect(await result(second.url, 'eth_getBalance', [Y, 'latest'])).toBe('0x4242')
      expect(await result(second.url, 'eth_getCode', [Y, 'latest'])).toBe('0x6001')
      await result(second.url, 'evm_mine')
      expect(await result(second.url, 'eth_getBalance', [Y, 'latest'])).toBe('0x4242')
    } finally {
      await first?.close()
      await second?.close()
      rmSync(datadir, { recursive: true, force: true })
    }
  })
})
