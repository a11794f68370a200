// anvil_dumpState / anvil_loadState on Cairn alone: a dump holds what transactions wrote (storage
// set by the EVM, deployed code), the edits and the genesis accounts, and loading it after
// anvil_reset brings them back. (The Anvil differential is in node's anvil-dev-methods e2e test.)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME, send } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const HOLDER = '0x7777777777777777777777777777777777777777'
const SLOT_0 = `0x${'00'.repeat(32)}`

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

function decode(hex: string): {
  accounts: Record<string, { nonce: number; balance: string; code: string; storage: Record<string, string> }>
  block: { number: string }
  best_block_number: number
} {
  return JSON.parse(gunzipSync(Buffer.from(hex.slice(2), 'hex')).toString('utf8'))
}

describe('anvil_dumpState / anvil_loadState', () => {
  it('dumps what transactions and edits wrote, and loads it back after a reset', async () => {
    const store = await deploy(url, STORE_RUNTIME)
    // STORE_RUNTIME stores CALLVALUE + 1 at slot 0.
    await send(url, { from: ACCOUNT_0, to: store, value: '0x29' })
    await result(url, 'anvil_setBalance', [HOLDER, '0x1234'])
    await result(url, 'anvil_setNonce', [HOLDER, '0x3'])
    const code = await result<string>(url, 'eth_getCode', [store, 'latest'])
    const value = await result<string>(url, 'eth_getStorageAt', [store, '0x0', 'latest'])
    expect(BigInt(value)).not.toBe(0n)

    const dump = decode(await result<string>(url, 'anvil_dumpState'))
    const head = await result<string>(url, 'eth_blockNumber')
    expect(dump.block.number).toBe(head)
    expect(dump.best_block_number).toBe(Number(head))
    expect(dump.accounts[store]).toEqual({ nonce: 1, balance: '0x29', code, storage: { [SLOT_0]: value } })
    expect(dump.accounts[HOLDER]).toEqual({ nonce: 3, balance: '0x1234', code: '0x', storage: {} })
    expect(dump.accounts[ACCOUNT_0]?.nonce).toBe(2)

    const raw = await result<string>(url, 'hardhat_dumpState')
    await result(url, 'anvil_reset')
    expect(await result(url, 'eth_getCode', [store, 'latest'])).toBe('0x')
    expect(await result(url, 'anvil_loadState', [raw])).toBe(true)
    expect(await result(url, 'eth_getCode', [store, 'latest'])).toBe(code)
    expect(await result(url, 'eth_getStorageAt', [store, '0x0', 'latest'])).toBe(value)
    expect(await result(url, 'eth_getBalance', [HOLDER, 'latest'])).toBe('0x1234')
    expect(await result(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest'])).toBe('0x2')
  })

  it('refuses what is not a dump, saying what was expected', async () => {
    const bad = await call(url, 'anvil_loadState', ['0x1f8b00'])
    expect(bad.error?.code).toBe(-32602)
    expect(bad.error?.message).toMatch(/invalid state dump/)
    const notJson = await call(url, 'anvil_loadState', [`0x${Buffer.from('{"accounts": 3}').toString('hex')}`])
    expect(notJson.error?.message).toMatch(/invalid state dump: accounts/)
  })
})

describe('anvil_dumpState after a restart of a persistent datadir', () => {
  it('dumps the whole state: the preimages of what earlier runs wrote are stored', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'cairn-dump-restart-'))
    const start = () => startDevNode({}, { flags: { ephemeral: false, datadir } })
    let first: StartedNode | undefined = await start()
    let second: StartedNode | undefined
    try {
      const store = await deploy(first.url, STORE_RUNTIME)
      await send(first.url, { from: ACCOUNT_0, to: store, value: '0x29' })
      await result(first.url, 'anvil_setBalance', [HOLDER, '0x1234'])
      await result(first.url, 'anvil_setStorageAt', [HOLDER, `0x${'00'.repeat(31)}05`, `0x${'00'.repeat(31)}07`])
      const before = decode(await result<string>(first.url, 'anvil_dumpState'))
      await first.close()
      first = undefined

      second = await start()
      const after = decode(await result<string>(second.url, 'anvil_dumpState'))
      expect(after.accounts).toEqual(before.accounts)
      expect(after.accounts[store]?.storage[SLOT_0]).toBeDefined()
      expect(after.accounts[HOLDER]?.storage).toEqual({ [`0x${'00'.repeat(31)}05`]: `0x${'00'.repeat(31)}07` })
      // And what the second run writes joins them.
      await send(second.url, { from: ACCOUNT_0, to: store, value: '0x1' })
      const later = decode(await result<string>(second.url, 'anvil_dumpState'))
      expect(later.accounts[store]?.balance).toBe('0x2a')
    } finally {
      await first?.close()
      await second?.close()
      rmSync(datadir, { recursive: true, force: true })
    }
  })
})
