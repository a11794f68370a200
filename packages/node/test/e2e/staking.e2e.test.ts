// Proof of stake on real processes: a 4-validator devnet whose genesis bonds the validators in
// the staking contract (`cairn devnet init`, short devnet parameters).
// 1. A fifth node stakes through viem (createValidator, its own consensus key) and signs commits
//    from the next epoch on.
// 2. A validator killed for longer than the signing window is jailed and leaves the set; restarted,
//    it unjails with `cairn staking unjail` and signs again.
// 3. `cairn gov propose/vote/tally/execute`: one proposal raises the block gas limit and schedules
//    the upgrade "v2"; blocks after execution move toward the new limit; at the upgrade's height
//    the fifth node (started without --unsafe-skip-upgrades) stops with the message naming the
//    upgrade and leaves upgrade-info.json, while the four validators (told to skip it) go on.
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeBftExtra } from '@cairn/consensus'
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  hexToBytes,
  http,
  parseEther,
} from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv, rpc, runCli } from '../cli/run-cli.ts'
import { freePortRange } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-staking-'))
const started: ChildProcess[] = []
const nodePids: number[] = []
/** node number → pid, from `cairn devnet start`'s output. */
const pidOf = new Map<number, number>()
afterAll(() => {
  const pids = [...nodePids]
  for (const p of started) if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) pids.push(p.pid)
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true })
})

let output = ''
function cairn(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], {
    env: cleanEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let out = ''
  const keep = (d: unknown) => {
    out += String(d)
    output += String(d)
    if (output.length > 200_000) output = output.slice(-100_000)
    for (const m of String(d).matchAll(/\[devnet\] node-(\d+) pid (\d+)/g)) {
      nodePids.push(Number(m[2]))
      pidOf.set(Number(m[1]), Number(m[2]))
    }
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, out: () => out, exited }
}

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      if (await pred()) return
    } catch (err) {
      if ((err as { final?: boolean }).final) throw err
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; the nodes said:\n${output.slice(-5000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const height = async (url: string) => BigInt((await rpc(url, 'eth_blockNumber')) as string)
const setAt = async (url: string, tag = 'latest') =>
  ((await rpc(url, 'cairn_getValidators', [tag])) as { validators: { address: string }[] }).validators.map((v) =>
    v.address.toLowerCase(),
  )
/**
 * The validators whose precommits for block `n` the next block carries (its parent certificate,
 * late precommits included), mapped through the set of `n`.
 */
const signersOf = async (url: string, n: bigint) => {
  const next = (await rpc(url, 'eth_getBlockByNumber', [`0x${(n + 1n).toString(16)}`, false])) as {
    extraData: Hex
  } | null
  if (next === null) return []
  const cert = decodeBftExtra(hexToBytes(next.extraData)).parentCertificate
  if (cert === null) return []
  const set = (await rpc(url, 'cairn_getValidators', [`0x${n.toString(16)}`])) as { validators: { address: string }[] }
  return cert.signatures.map((s) => set.validators[s.validatorIndex]?.address.toLowerCase() ?? '?')
}

describe('proof of stake on a 4-validator devnet', () => {
  it('a node stakes and signs; a stopped validator is jailed and unjails; governance changes the chain', async () => {
    const dn = join(dir, 'dn')
    const base = await freePortRange(12)
    const p2pBase = base + 6
    const init = await runCli([
      'devnet',
      'init',
      '--validators',
      '4',
      '--dir',
      dn,
      '--base-port',
      String(base),
      '--p2p-base-port',
      String(p2pBase),
      '--param',
      'staking.epochLength=5',
      '--param',
      'staking.signedBlocksWindow=10',
      // 20%: a killed validator (0 of 10) is jailed, a live one whose precommits often arrive after
      // the first quorum a certificate holds (node 5, started last, on a loaded machine) is not —
      // jailing it left 3 of 5 validators live once node 4 was killed, and the chain stopped.
      '--param',
      'staking.minSignedPerWindowBps=2000',
      '--param',
      'staking.downtimeJailSeconds=3',
      '--param',
      'governance.votingPeriodBlocks=25',
      '--param',
      'governance.timelockBlocks=1',
    ])
    expect(init.code, init.stderr).toBe(0)
    const genesis = JSON.parse(readFileSync(join(dn, 'genesis.json'), 'utf8'))
    expect(genesis.config.cairn.bft).toEqual({ staking: true, blockTimeMs: 1000 })
    expect(genesis.alloc[STAKING_ADDRESS.toLowerCase()]?.code).toBeDefined()
    // The four validators go through the upgrade "v2" with their rules (a top-level key, before any [section]).
    for (let i = 1; i <= 4; i++) {
      const path = join(dn, `node-${i}.toml`)
      writeFileSync(path, readFileSync(path, 'utf8').replace(/^engine = /m, 'unsafeSkipUpgrades = ["v2"]\nengine = '))
    }
    const devnet = cairn(['devnet', 'start', '--dir', dn])
    const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
    const url0 = urls[0] as string
    await waitFor(
      async () => (await Promise.all(urls.map(height))).every((n) => n >= 2n),
      240_000,
      'four nodes at height 2',
    )
    const v = await setAt(url0)
    expect(v.length).toBe(4)

    // 1. A fifth node: its own consensus key, node-4's config with its own datadir and ports.
    const fifth = join(dir, 'node-5')
    mkdirSync(join(fifth, 'keys'), { recursive: true })
    const key5 = `0x${'5a'.repeat(31)}01` as Hex
    writeFileSync(join(fifth, 'keys', 'validator.key'), key5.slice(2))
    chmodSync(join(fifth, 'keys', 'validator.key'), 0o600)
    const consensus5 = privateKeyToAccount(key5).address.toLowerCase()
    const toml5 = readFileSync(join(dn, 'node-4.toml'), 'utf8')
      .replace(/^unsafeSkipUpgrades = .*\n/m, '')
      .replace(/^datadir = .*$/m, `datadir = ${JSON.stringify(fifth)}`)
      .replace(/^port = (\d+)$/gm, (_, p: string) => `port = ${Number(p) + 1}`)
      .replace(/^bootnodes = \[(.*)\]$/m, (_, list: string) => {
        const more = readFileSync(join(dn, 'node-1.toml'), 'utf8').match(/^bootnodes = \[(.*)\]$/m)?.[1] ?? ''
        return `bootnodes = [${[...new Set([...list.split(', '), ...more.split(', ')])].join(', ')}]`
      })
    writeFileSync(join(dir, 'node-5.toml'), toml5)
    const node5 = cairn(['start', '--config', join(dir, 'node-5.toml')])
    const url5 = `http://127.0.0.1:${base + 4}`
    // Synced to the validators' head first: a validator behind its set's height cannot vote.
    await waitFor(async () => (await height(url5)) + 2n >= (await height(url0)), 180_000, 'node 5 to sync')

    const chain = defineChain({
      id: 1337,
      name: 'devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [url0] } },
    })
    const operator = mnemonicToAccount('test test test test test test test test test test test junk', {
      addressIndex: 1,
    })
    const wallet = createWalletClient({ account: operator, chain, transport: http(url0) })
    const client = createPublicClient({ chain, transport: http(url0) })
    const hash = await wallet.writeContract({
      address: STAKING_ADDRESS as Hex,
      abi: staking.abi as Abi,
      functionName: 'createValidator',
      args: [consensus5, 1000, 2000, 100, parseEther('1'), 'node-5'],
      value: parseEther('500'),
    })
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 60_000 })
    expect(receipt.status).toBe('success')
    // In the set from the next epoch boundary (+2), then in the commits.
    await waitFor(async () => (await setAt(url0)).includes(consensus5), 60_000, 'node 5 in the validator set')
    await waitFor(
      async () => (await signersOf(url0, (await height(url0)) - 2n)).includes(consensus5),
      60_000,
      "node 5's precommit in a commit",
    ).catch(async (err: Error) => {
      const lines = node5
        .out()
        .split('\n')
        .filter((l) => !l.includes('imported new head'))
        .slice(-60)
        .join('\n')
      throw new Error(
        `${err.message.slice(0, 300)}\n--- node 5 (${await height(url5).catch(() => '?')}, set ${JSON.stringify(await setAt(url5).catch(() => null))}) ---\n${lines}`,
      )
    })

    // 2. Validator 4 killed: jailed within the window, out of the set; restarted, it unjails.
    const node4Pid = pidOf.get(4) as number
    const v4addr = privateKeyToAccount(
      `0x${readFileSync(join(dn, 'node-4', 'keys', 'validator.key'), 'utf8').trim()}` as Hex,
    ).address.toLowerCase()
    process.kill(-node4Pid, 'SIGKILL')
    const live = [0, 1, 2].map((k) => urls[k] as string)
    await waitFor(async () => !(await setAt(url0)).includes(v4addr), 120_000, 'validator 4 jailed and out of the set')
    const info = (await client.readContract({
      address: STAKING_ADDRESS as Hex,
      abi: staking.abi as Abi,
      functionName: 'getValidator',
      args: [v4addr],
    })) as unknown[]
    expect(info[4]).toBe(true) // jailed
    expect(info[5]).toBe(false) // not tombstoned
    // The jailing block J: the set of J + 2 is the first without it (issue 66 item 5).
    let jailedAt = (await height(url0)) - 1n
    while (!(await setAt(url0, `0x${(jailedAt + 1n).toString(16)}`)).includes(v4addr)) jailedAt--
    // Restarted from its datadir, caught up (back in the set before that, it would miss the
    // window again), then unjailed with the CLI (its jail time, 3 s, is long over by then).
    // On fresh ports: while it was down, another test on this machine may have taken its old ones
    // (a restart on a taken port exits at once, and the wait below would only time out).
    const start4 = async () => {
      const [rpc, p2p] = [await freePortRange(1), await freePortRange(1)]
      const proc = cairn([
        'start',
        '--config',
        join(dn, 'node-4.toml'),
        '--http.port',
        String(rpc),
        '--p2p.port',
        String(p2p),
      ])
      return { proc, url: `http://127.0.0.1:${rpc}` }
    }
    const exitedEarly = (proc: ReturnType<typeof cairn>) => {
      if (proc.child.exitCode !== null)
        throw Object.assign(new Error(`node 4 exited (${proc.child.exitCode}):\n${proc.out().slice(-3000)}`), {
          final: true,
        })
    }
    // Crashed again once its catch-up passed the jailing height (a range sync and the engine's
    // catch-up meet there), and restarted: a jailed validator restarted at any phase catches up.
    const first = await start4()
    await waitFor(
      async () => {
        exitedEarly(first.proc)
        return (await height(first.url)) >= jailedAt
      },
      240_000,
      'node 4 to reach the jailing height',
    )
    process.kill(-(first.proc.child.pid as number), 'SIGKILL')
    await first.proc.exited
    const { proc: node4, url: url4 } = await start4()
    const restartedAt = Date.now()
    await waitFor(
      async () => {
        exitedEarly(node4)
        return (await height(url4)) >= (await height(url0)) - 1n
      },
      240_000,
      'node 4 to catch up',
    ).catch(async (err: Error) => {
      const all = node4.out().split('\n')
      const heads = all.filter((l) => l.includes('imported new head'))
      const lines = [
        ...all.filter((l) => !l.includes('imported new head')).slice(-80),
        `(${heads.length} heads imported, the last:)`,
        ...heads.slice(-3),
      ].join('\n')
      throw new Error(
        `${err.message.slice(0, 300)}\n--- node 4 (${await height(url4).catch(() => '?')} vs ${await height(url0).catch(() => '?')}) ---\n${lines}`,
      )
    })
    // Within a bound (caught up in 7-22 s when it works; stuck for good when it did not), and no
    // block of the network's was refused on the way, nor any honest peer blamed for one.
    expect(Date.now() - restartedAt).toBeLessThan(120_000)
    for (const out of [first.proc.out(), node4.out()]) {
      expect(out).not.toMatch(/is known bad|peer served an invalid block|validator changes, the parent returned/)
    }
    const unjailArgs = [
      'staking',
      'unjail',
      '--rpc',
      url0,
      '--private-key-file',
      join(dn, 'node-4', 'keys', 'validator.key'),
    ]
    let unjail = await runCli(unjailArgs)
    // The jail ends by block time, which may trail the wall clock by a block: once more then.
    if (unjail.code !== 0 && /JailPeriodActive/.test(unjail.stderr)) {
      await new Promise((r) => setTimeout(r, 3000))
      unjail = await runCli(unjailArgs)
    }
    expect(unjail.code, unjail.stderr).toBe(0)
    expect(unjail.stdout).toMatch(/^unjail: 0x[0-9a-f]{64} in block \d+/)
    await waitFor(async () => (await setAt(url0)).includes(v4addr), 60_000, 'validator 4 back in the set')
    await waitFor(
      async () => (await signersOf(url0, (await height(url0)) - 2n)).includes(v4addr),
      120_000,
      "validator 4's precommit in a commit again",
    )
    // A refused call names the rule and sends nothing: an account that runs no validator unjails.
    const refused = await runCli(['staking', 'unjail', '--rpc', url0, '--dev-account', '5'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/unjail refused: UnknownValidator\(0x[0-9a-fA-F]{40}\)/)

    // 3. Governance through the CLI: raise the gas limit and schedule "v2".
    const gasBefore = BigInt(
      ((await rpc(url0, 'eth_getBlockByNumber', ['latest', false])) as { gasLimit: string }).gasLimit,
    )
    const upgradeAt = (await height(url0)) + 70n
    const propose = await runCli([
      'gov',
      'propose',
      '--rpc',
      url0,
      '--dev-account',
      '0',
      '--title',
      'more gas, and v2',
      '--deposit',
      '10',
      '--gas-limit',
      String(gasBefore + 2_000_000n),
      '--upgrade',
      `v2@${upgradeAt}`,
    ])
    expect(propose.code, propose.stderr).toBe(0)
    const id = /proposal (\d+)/.exec(propose.stdout)?.[1] as string
    // Three validators vote yes at once (each CLI run starts a process: seconds on a loaded machine).
    const votes = await Promise.all(
      [1, 2, 3].map((i) =>
        runCli([
          'gov',
          'vote',
          '--rpc',
          url0,
          '--id',
          id,
          '--option',
          'yes',
          '--private-key-file',
          join(dn, `node-${i}`, 'keys', 'validator.key'),
        ]),
      ),
    )
    for (const vote of votes) expect(vote.code, vote.stderr).toBe(0)
    const tally = async () =>
      (await runCli(['gov', 'tally', '--rpc', url0, '--id', id, '--dev-account', '0'])).code === 0
    await waitFor(tally, 60_000, 'the tally after the voting period')
    const execute = async () =>
      (await runCli(['gov', 'execute', '--rpc', url0, '--id', id, '--dev-account', '0'])).code === 0
    await waitFor(execute, 60_000, 'the execution after the timelock')
    await waitFor(
      async () =>
        BigInt(((await rpc(url0, 'eth_getBlockByNumber', ['latest', false])) as { gasLimit: string }).gasLimit) >
        gasBefore,
      60_000,
      'the gas limit to move up',
    )
    // At the upgrade's height node 5 stops, naming the upgrade; the validators go on.
    expect(await height(url0)).toBeLessThan(upgradeAt)
    const code5 = await node5.exited
    expect(code5).toBe(0)
    // (the log is JSON: its quotes are escaped)
    expect(node5.out()).toMatch(new RegExp(`UPGRADE \\\\?"v2\\\\?" NEEDED at height ${upgradeAt}`))
    expect(JSON.parse(readFileSync(join(fifth, 'upgrade-info.json'), 'utf8'))).toEqual({
      name: 'v2',
      height: Number(upgradeAt),
    })
    await waitFor(
      async () => (await Promise.all(live.map(height))).every((n) => n >= upgradeAt + 2n),
      60_000,
      'the validators past v2',
    )

    process.kill(node4.child.pid as number, 'SIGTERM')
    await node4.exited
    process.kill(devnet.child.pid as number, 'SIGINT')
    await devnet.exited
    expect(existsSync(join(dn, 'node-1'))).toBe(true)
  }, 600_000)
})
