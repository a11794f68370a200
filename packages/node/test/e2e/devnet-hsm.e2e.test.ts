// A 4-validator devnet (`cairn devnet init` + `cairn devnet start`) whose validator 3 signs with a
// key on a SoftHSM2 token: the key file is imported into the token (`cairn signer hsm import`) and
// moved out of node 3's datadir, node 3's config says `bft.signer = { kind = "hsm", … }`, and the
// chain finalizes with validator 3's precommits — signed on the token — in its commit certificates.
// Before that, `cairn start` with a wrong PIN exits non-zero with one clear line.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MsgType, recoverSigner, voteDigest } from '@cairn/consensus'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../consensus/test/bft/hsm/softhsm.ts'
import { CAIRN_BIN, cleanEnv, rpc, runCli } from '../cli/run-cli.ts'
import { initDevnet } from './harness.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the SoftHSM2 devnet: ${missing}`)

const hsm = makeSoftHsm('cairn-devnet-hsm-')
const dir = hsm.dir
const env = { SOFTHSM2_CONF: hsm.conf }
const started: ChildProcess[] = []
const nodePids: number[] = []
afterAll(() => {
  const pids = [...nodePids]
  for (const p of started) if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) pids.push(p.pid)
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {}
  }
  hsm.remove()
})

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string, out?: () => string): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      if (await pred()) return
    } catch {}
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${out ? `\n${out().slice(-4000)}` : ''}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

function cairn(args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], {
    env: cleanEnv(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let out = ''
  const take = (d: Buffer) => {
    out += String(d)
    for (const m of String(d).matchAll(/\[devnet\] node-\d+ pid (\d+)/g)) nodePids.push(Number(m[1]))
  }
  child.stdout?.on('data', take)
  child.stderr?.on('data', take)
  return { child, out: () => out }
}

const hsmTable = (pinFile: string) =>
  `\n[bft.signer]\nkind = "hsm"\nmodule = ${JSON.stringify(SOFTHSM_MODULE)}\ntoken = "devnet"\npinFile = ${JSON.stringify(pinFile)}\nkey = "validator-3"\n`

describe.skipIf(missing !== null)('a devnet whose validator 3 signs on a SoftHSM2 token', () => {
  it('refuses a wrong PIN at start, then finalizes with validator 3 signing on the token', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn)
    hsm.initToken('devnet', '1234')
    writeFileSync(join(dir, 'pin'), '1234\n', { mode: 0o600 })
    writeFileSync(join(dir, 'bad-pin'), '9999\n', { mode: 0o600 })
    const tokenArgs = ['--module', SOFTHSM_MODULE, '--token', 'devnet', '--pin-file', join(dir, 'pin')]

    // The key leaves the node: onto the token, the file moved out of the datadir.
    const keyFile = join(dn, 'node-3', 'keys', 'validator.key')
    const v3 = privateKeyToAccount(`0x${readFileSync(keyFile, 'utf8').trim()}`).address.toLowerCase()
    const imported = await runCli(
      ['signer', 'hsm', 'import', ...tokenArgs, '--key-file', keyFile, '--label', 'validator-3'],
      {
        env,
      },
    )
    expect(imported.code, imported.stderr).toBe(0)
    renameSync(keyFile, join(dir, 'validator-3.key.offline'))
    const listed = await runCli(['signer', 'hsm', 'list', ...tokenArgs, '--json'], { env })
    expect(listed.code, listed.stderr).toBe(0)
    expect(
      (JSON.parse(listed.stdout) as { label: string; address: string }[]).map((k) => [
        k.label,
        k.address.toLowerCase(),
      ]),
    ).toEqual([['validator-3', v3]])

    // Node 3 signs on the token (and has no validator key of its own any more).
    const toml = readFileSync(join(dn, 'node-3.toml'), 'utf8').replace(/^validator = true$/m, 'validator = false')
    writeFileSync(join(dir, 'node-3-bad-pin.toml'), `${toml}${hsmTable(join(dir, 'bad-pin'))}`)
    writeFileSync(join(dn, 'node-3.toml'), `${toml}${hsmTable(join(dir, 'pin'))}`)

    // A wrong PIN: a start error, one clear line, before the node starts.
    const bad = await runCli(['start', '--config', join(dir, 'node-3-bad-pin.toml')], { env, timeoutMs: 90_000 })
    expect(bad.code).not.toBe(0)
    expect(bad.code).not.toBeNull()
    expect(bad.listening).toBe(false)
    const errors = bad.stderr.split('\n').filter((l) => l.startsWith('error:'))
    expect(errors).toEqual([expect.stringMatching(/^error: HSM token "devnet" refused the PIN \(check the PIN file/)])

    const devnet = cairn(['devnet', 'start', '--dir', dn])
    const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
    const finalized = async (url: string) =>
      BigInt(((await rpc(url, 'eth_getBlockByNumber', ['finalized', false])) as { number: string }).number)
    await waitFor(
      async () => (await Promise.all(urls.map(finalized))).every((n) => n >= 6n),
      300_000,
      'six finalized blocks on every node',
      devnet.out,
    )
    expect(devnet.out()).toMatch(/hsm signer ready/)

    // Validator 3's precommits are in the certificates, and recover to its address.
    let signedBy3 = 0
    for (let n = 1; n <= 6; n++) {
      const c = (await rpc(urls[0] as string, 'cairn_getCommit', [`0x${n.toString(16)}`])) as {
        height: string
        round: string
        blockHash: string
        signatures: { validator: string | null; signature: string }[]
      }
      const vote = {
        type: MsgType.PRECOMMIT,
        height: Number(c.height),
        round: Number(c.round),
        blockHash: hexToBytes(c.blockHash as `0x${string}`),
      }
      for (const s of c.signatures) {
        const by = recoverSigner(voteDigest(1337n, vote), hexToBytes(s.signature as `0x${string}`))
        expect(by && bytesToHex(by)).toBe(s.validator?.toLowerCase())
        if (s.validator?.toLowerCase() === v3) signedBy3++
      }
    }
    // A certificate needs > 2/3 of the power (3 of 4): validator 3 may miss some, never all.
    expect(signedBy3).toBeGreaterThanOrEqual(1)
    // Its signer state (in the datadir, as for a key file) follows the heights it signed.
    const state = JSON.parse(readFileSync(join(dn, 'node-3', 'keys', 'validator.state.json'), 'utf8')) as {
      height: number
    }
    expect(state.height).toBeGreaterThanOrEqual(3)
  }, 420_000)
})
