import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { startNode } from '../../src/node.ts'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from '../cli/run-cli.ts'

function hashKey(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CAIRN_BIN, 'auth', 'hash-key', ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The TOML entry the command prints. */
const entry = (stdout: string) => stdout.slice(stdout.indexOf('[[auth.apiKeys]]'))

const dir = mkdtempSync(join(tmpdir(), 'cairn-hash-key-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('cairn auth hash-key', () => {
  it('hashes a key piped on stdin (sha256, trailing newline dropped) and never echoes it', () => {
    const r = hashKey(['--name', 'ci', '--role', 'operator'], 'my-secret-key\n')
    expect(r.code).toBe(0)
    const want = createHash('sha256').update('my-secret-key').digest('hex')
    expect(r.stdout).toContain(`keyHash: ${want}`)
    expect(entry(r.stdout)).toBe(`[[auth.apiKeys]]\nname = "ci"\nkeyHash = "${want}"\nrole = "operator"\n\n`)
    expect(r.stdout).not.toContain('my-secret-key')
  })

  it('refuses an empty stdin, naming what to do', () => {
    const r = hashKey([], '')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no key on stdin.*--generate/)
  })

  it('a generated key works against a node configured with the printed entry', async () => {
    const r = hashKey(['--generate', '--name', 'ops', '--role', 'admin'])
    expect(r.code).toBe(0)
    const key = /^key: +(\S+)$/m.exec(r.stdout)?.[1] as string
    expect(key).toMatch(/^cairn_[A-Za-z0-9_-]{43}$/)
    const file = join(dir, 'cairn.toml')
    writeFileSync(file, entry(r.stdout))
    const config = loadConfig({
      file,
      flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1' },
      env: {},
    })
    const node = await startNode(config, { logger: silentLogger })
    try {
      const mine = (headers: Record<string, string>) =>
        fetch(node.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] }),
        })
      expect((await mine({})).status).toBe(401)
      expect((await mine({ 'x-api-key': `${key}x` })).status).toBe(401)
      const ok = await mine({ 'x-api-key': key })
      expect(ok.status).toBe(200)
      expect(((await ok.json()) as { result?: unknown }).result).toBeDefined()
    } finally {
      await node.close()
    }
  })
})
