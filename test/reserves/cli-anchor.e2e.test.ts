// `cairn reserves registry deploy`, `anchor` and `verify --rpc --registry` as a user runs them:
// real `cairn` processes against a real Cairn dev node (in this process) and a real reserves
// service (PGlite in memory, on a real port).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encryptKeystore } from '@cairn/crypto'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTree } from '../../packages/reserves/src/tree/build.ts'
import { proofFor, rootOf } from '../../packages/reserves/src/tree/proof.ts'
import { writeTreeDir } from '../../packages/reserves/src/tree-dir/format.ts'
import {
  createReservesService,
  DEFAULT_SERVICE_OPTIONS,
  type ReservesService,
} from '../../packages/reserves-service/src/app.ts'
import { parseKeyFile } from '../../packages/reserves-service/src/kernel/at-rest.ts'
import { reservesCli } from '../../packages/reserves-service/test/cli-harness.ts'
import { type OpenedSql, openTestSql } from '../../packages/reserves-service/test/service-harness.ts'
import { type StartedNode, startDevNode } from '../rpc/live-node.ts'

const currencies = [
  { symbol: 'BTC', decimals: 8 },
  { symbol: 'ETH', decimals: 18 },
]

const dir = mkdtempSync(join(tmpdir(), 'cairn-reserves-anchor-'))

const cli = reservesCli(dir)

describe('cairn reserves anchoring through the registry (CLI)', () => {
  let node: StartedNode
  let db: OpenedSql
  let svc: ReservesService
  let service: string
  let registry: string
  const ownerKey = ['--private-key-file', 'owner.key']
  const keystore = ['--key-file', 'owner.json', '--password-file', 'owner.pw']

  beforeAll(async () => {
    node = await startDevNode()
    const acct = node.accounts[0]!
    writeFileSync(join(dir, 'owner.key'), Buffer.from(acct.privateKey).toString('hex'), { mode: 0o600 })
    writeFileSync(
      join(dir, 'owner.json'),
      JSON.stringify(await encryptKeystore(acct.privateKey, 's3cret', { n: 1024 })),
    )
    writeFileSync(join(dir, 'owner.pw'), 's3cret\n', { mode: 0o600 })
    writeFileSync(join(dir, 'admin.apikey'), 'k-anchor-admin\n', { mode: 0o600 })
    db = await openTestSql('pglite')
    svc = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        defaultMinDepth: 3,
        apiKeys: [{ name: 'anchorer', role: 'admin', key: 'k-anchor-admin' }],
      },
      { sql: db.sql, key: parseKeyFile('ef'.repeat(32)), logger: silentLogger },
    )
    service = await svc.app.listen({ host: '127.0.0.1', port: 0 })
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
    await node?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  // Each `cairn` process costs seconds to start, so independent commands run side by side, in
  // three waves: deploy (and refused deploys), one anchor, then everything that reads it.
  it('registry deploy; refuses a missing key, a key on the command line, and a world-readable key file', async () => {
    writeFileSync(join(dir, 'open.key'), Buffer.from(node.accounts[1]!.privateKey).toString('hex'), { mode: 0o644 })
    const [d, noKey, onArgv, open] = await Promise.all([
      cli('registry', 'deploy', '--rpc', node.url, ...ownerKey),
      cli('registry', 'deploy', '--rpc', node.url),
      cli('registry', 'deploy', '--rpc', node.url, '--private-key', '0x01'),
      cli('registry', 'deploy', '--rpc', node.url, '--private-key-file', 'open.key'),
    ])
    expect(d.stderr).toBe('')
    const deployed = JSON.parse(d.stdout)
    expect(deployed).toMatchObject({ chainId: 1337, owner: node.accounts[0]!.address })
    registry = deployed.address
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toMatch(/signing key is needed/)
    expect(onArgv.code).not.toBe(0)
    expect(onArgv.stderr).toMatch(/unknown option/)
    expect(open.code).toBe(2)
    expect(open.stderr).toMatch(/chmod 600/)
  }, 120_000)

  it('anchor --tree → verify --rpc --registry; a different root, an unanchored snapshot and a second anchor fail clearly; anchor --snapshot --service records it in the service', async () => {
    // trees and proofs are made in-process (cli.e2e.test.ts covers build/proof as commands)
    const build = (out: string, id: string) => {
      const tree = buildTree(
        [
          { userId: 'alice', balances: [150000000n, 0n] },
          { userId: 'bob', balances: [1n, 2000000000000000000n] },
        ],
        { hash: 'sha256', currencies, minDepth: 4 },
      )
      writeTreeDir(join(dir, out), id, tree)
      return tree
    }
    const t1 = build('t1', 'cli-1')
    const a = await cli('anchor', '--tree', 't1', '--rpc', node.url, '--registry', registry, ...keystore)
    expect(a.stderr).toBe('')
    expect(JSON.parse(a.stdout)).toMatchObject({ snapshotId: 'cli-1', chainId: 1337, registry })

    writeFileSync(join(dir, 'alice.json'), JSON.stringify(proofFor(t1, 'cli-1', 'alice')))
    // the same snapshot id with another root (a re-built tree), and a snapshot never anchored
    writeFileSync(join(dir, 'other.json'), JSON.stringify(proofFor(build('t1b', 'cli-1'), 'cli-1', 'alice')))
    writeFileSync(join(dir, 'bob2.json'), JSON.stringify(proofFor(build('t2', 'cli-2'), 'cli-2', 'bob')))
    // a snapshot held by the service
    const post = await fetch(`${service}/v1/snapshots?id=svc-1&currencies=BTC:8`, {
      method: 'POST',
      headers: { 'x-api-key': 'k-anchor-admin', 'content-type': 'text/csv' },
      body: 'userId,BTC\ncarol,5\ndave,7\n',
    })
    expect(post.status).toBe(202)
    await svc.idle()
    expect((await fetch(`${service}/v1/snapshots/svc-1/anchor`)).status).toBe(404)

    // only one of these sends a transaction (the second anchor of cli-1 is refused in simulation)
    const [ok, diff, none, again, viaService, show] = await Promise.all([
      cli('verify', 'alice.json', '--rpc', node.url, '--registry', registry),
      cli('verify', 'other.json', '--rpc', node.url, '--registry', registry),
      cli('verify', 'bob2.json', '--rpc', node.url, '--registry', registry),
      cli('anchor', '--tree', 't1', '--rpc', node.url, '--registry', registry, ...ownerKey),
      cli(
        'anchor',
        '--snapshot',
        'svc-1',
        '--service',
        service,
        '--api-key-file',
        'admin.apikey',
        '--rpc',
        node.url,
        '--registry',
        registry,
        ...ownerKey,
      ),
      cli('registry', 'show', '--rpc', node.url, '--registry', registry, '--snapshot', 'cli-1'),
    ])
    expect(ok.stderr).toBe('')
    expect(ok.stdout).toContain(`anchored in registry ${registry}`)
    expect(diff.code).toBe(2)
    expect(diff.stderr).toMatch(/does not match the anchored record: the anchored root is/)
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/snapshot cli-2 is not anchored in registry/)
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already anchored/)
    expect(JSON.parse(show.stdout)).toMatchObject({
      rootHash: rootOf(t1).hash,
      totals: ['150000001', '2000000000000000000'],
      currencies: ['BTC', 'ETH'],
    })

    expect(viaService.stderr).toBe('')
    const rec = JSON.parse(viaService.stdout)
    const pub = await fetch(`${service}/v1/snapshots/svc-1/anchor`) // public, no credentials
    expect(pub.status).toBe(200)
    const body = (await pub.json()) as { root: { hash: string; balances: string[] }; anchor: unknown }
    expect(body.root.balances).toEqual(['12'])
    expect(body.anchor).toMatchObject({ chainId: 1337, registry, txHash: rec.txHash, blockNumber: rec.blockNumber })
  }, 150_000)
})
