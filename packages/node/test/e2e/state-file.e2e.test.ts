// `cairn start --state FILE` (Anvil's --state): the state is written on a clean stop and loaded at
// the next start, as Anvil's JSON; --load-state also takes a file Anvil wrote (same format).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { killAllNodes, rpcRequest, startNode } from './harness.ts'

const HOLDER = '0x8888888888888888888888888888888888888888'
const dir = mkdtempSync(join(tmpdir(), 'cairn-state-file-'))
afterAll(() => {
  killAllNodes()
  rmSync(dir, { recursive: true, force: true })
})

describe('cairn start --state', () => {
  it('writes the state on a clean stop and loads it at the next start', async () => {
    const file = join(dir, 'state.json')
    const first = await startNode('cairn', { args: ['--ephemeral', '--state', file] })
    try {
      await rpcRequest(first.url, 'anvil_setBalance', [HOLDER, '0x4242'])
      await rpcRequest(first.url, 'anvil_setStorageAt', [HOLDER, '0x1', `0x${'00'.repeat(31)}09`])
    } finally {
      await first.stop()
    }
    expect(existsSync(file)).toBe(true)
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { accounts: Record<string, { balance: string }> }
    expect(saved.accounts[HOLDER]?.balance).toBe('0x4242')

    const second = await startNode('cairn', { args: ['--ephemeral', '--load-state', file] })
    try {
      expect(((await rpcRequest(second.url, 'eth_getBalance', [HOLDER, 'latest'])) as { result: string }).result).toBe(
        '0x4242',
      )
      expect(
        ((await rpcRequest(second.url, 'eth_getStorageAt', [HOLDER, '0x1', 'latest'])) as { result: string }).result,
      ).toBe(`0x${'00'.repeat(31)}09`)
    } finally {
      await second.stop()
    }
  }, 120_000)
})
