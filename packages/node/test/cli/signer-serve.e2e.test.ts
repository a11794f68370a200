/**
 * `cairn signer serve` as a real process: certificates from `cairn signer certs`, the key from
 * `cairn signer import-key`; two clients sharing its one key ask for conflicting votes and the
 * second is refused; a client with an unpinned certificate is refused; and after a restart the
 * signer still refuses the conflict (its protection database is durable) while re-signing the
 * same vote. One frame just under the frame cap whose error would once have quoted an unknown
 * field's name (and gone over the cap, killing the process) gets a short error, and a vote at
 * 2^53 - 1 is refused without spoiling the next height (issue 66).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { MsgType } from '@cairn/consensus'
import { RemoteSigner, type RemoteSignerOptions } from '@cairn/consensus/privval'
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { FrameReader, MAX_FRAME_BYTES, parseSignerUrl } from '@cairn/keys/remote-signer'
import { bytesToHex, isCairnError, silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { type RunningNode, runCli, startCli } from './run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-signer-e2e-'))
const live: RunningNode[] = []
const clients: RemoteSigner[] = []
afterAll(async () => {
  for (const c of clients) c.close()
  for (const n of live) await n.stop()
  rmSync(dir, { recursive: true, force: true })
})

const KEY = keccak256(new TextEncoder().encode('signer-e2e'))
const READY = /"listen":"(tls:\/\/[^"]+)"/

async function serve(keystore: string): Promise<RunningNode> {
  const tls = join(dir, 'tls')
  const node = await startCli(
    [
      '--chain-id',
      '1337',
      '--listen',
      '127.0.0.1:0',
      '--keystore',
      keystore,
      '--password-file',
      join(dir, 'pw'),
      '--tls-cert',
      join(tls, 'signer.pem'),
      '--tls-key',
      join(tls, 'signer-key.pem'),
      '--client',
      join(tls, 'node1.pem'),
      '--client',
      join(tls, 'node2.pem'),
      '--db',
      join(dir, 'db'),
      '--max-connections-per-ip',
      '6',
      '--handshake-timeout-ms',
      '3000',
      '--max-height-jump',
      '1000',
    ],
    { command: ['signer', 'serve'], ready: READY, timeoutMs: 60_000 },
  )
  live.push(node)
  return node
}

async function client(url: string, name: string): Promise<RemoteSigner> {
  const tls = join(dir, 'tls')
  const opts: RemoteSignerOptions = {
    chainId: 1337n,
    url,
    tls: {
      ca: readFileSync(join(tls, 'ca.pem'), 'utf8'),
      cert: readFileSync(join(tls, `${name}.pem`), 'utf8'),
      key: readFileSync(join(tls, `${name}-key.pem`), 'utf8'),
    },
    timeoutMs: 5_000,
  }
  const c = await RemoteSigner.connect(opts, { logger: silentLogger })
  clients.push(c)
  return c
}

/** Sends one raw frame over mutual TLS as `name` and resolves to the answer. */
function rawAsk(url: string, name: string, body: string): Promise<unknown> {
  const tls = join(dir, 'tls')
  const { host, port } = parseSignerUrl(url)
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      ca: readFileSync(join(tls, 'ca.pem'), 'utf8'),
      cert: readFileSync(join(tls, `${name}.pem`), 'utf8'),
      key: readFileSync(join(tls, `${name}-key.pem`), 'utf8'),
      minVersion: 'TLSv1.3',
    })
    const reader = new FrameReader()
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answer within 20 s'))
    }, 20_000)
    socket.once('secureConnect', () => {
      const bytes = Buffer.from(body, 'utf8')
      const head = Buffer.alloc(4)
      head.writeUInt32BE(bytes.length, 0)
      socket.write(Buffer.concat([head, bytes]))
    })
    socket.on('data', (chunk: Buffer) => {
      const [first] = reader.push(chunk)
      if (first === undefined) return
      clearTimeout(timer)
      socket.destroy()
      resolve(first)
    })
    socket.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.once('close', () => {
      clearTimeout(timer)
      reject(new Error('the signer closed the connection without an answer'))
    })
  })
}

describe('cairn signer serve', () => {
  it('refuses the second of two conflicting votes from two nodes, an unpinned node, and the conflict after a restart', async () => {
    const certs = await runCli([
      'signer',
      'certs',
      '--out',
      join(dir, 'tls'),
      '--client',
      'node1',
      '--client',
      'node2',
      '--client',
      'rogue',
    ])
    expect(certs.code, certs.stderr).toBe(0)
    writeFileSync(join(dir, 'pw'), 'correct horse\n', { mode: 0o600 })
    writeFileSync(join(dir, 'validator.key'), `${Buffer.from(KEY).toString('hex')}\n`, { mode: 0o600 })
    const imported = await runCli([
      'signer',
      'import-key',
      '--key-file',
      join(dir, 'validator.key'),
      '--out',
      join(dir, 'keys'),
      '--password-file',
      join(dir, 'pw'),
      '--scrypt-n',
      '1024',
    ])
    expect(imported.code, imported.stderr).toBe(0)
    const keystore = /Keystore: (\S+)/.exec(imported.stdout)?.[1] as string
    expect(keystore).toBeDefined()

    let signer = await serve(keystore)
    const one = await client(signer.url, 'node1')
    const two = await client(signer.url, 'node2')
    expect(bytesToHex(one.address)).toBe(bytesToHex(privateKeyToAddress(KEY)))

    const A = keccak256(new TextEncoder().encode('block A'))
    const B = keccak256(new TextEncoder().encode('block B'))
    const first = await one.signVote({ type: MsgType.PRECOMMIT, height: 9, round: 1, blockHash: A })
    expect(first).toHaveProperty('signature')
    const second = await two.signVote({ type: MsgType.PRECOMMIT, height: 9, round: 1, blockHash: B })
    expect(second).toMatchObject({ refused: expect.stringMatching(/conflict at 9\/1\/3/) })

    const rogue = await client(signer.url, 'rogue').catch((e: unknown) => e)
    expect(isCairnError(rogue)).toBe(true)
    expect((rogue as Error).message).toMatch(/unreachable/)

    // A restart: the record is on disk, so the conflict is still refused; the same vote is re-signed.
    for (const c of clients.splice(0)) c.close()
    expect(await signer.stop()).toBe(0)
    live.splice(live.indexOf(signer), 1)
    signer = await serve(keystore)
    const again = await client(signer.url, 'node2')
    expect(await again.signVote({ type: MsgType.PRECOMMIT, height: 9, round: 1, blockHash: B })).toHaveProperty(
      'refused',
    )
    const same = await again.signVote({ type: MsgType.PRECOMMIT, height: 9, round: 1, blockHash: A })
    expect('signature' in same && bytesToHex(same.signature)).toBe(
      'signature' in first ? bytesToHex(first.signature) : 'none',
    )
    // One frame from a pinned client, just under the cap, with an unknown field name: a short
    // BAD_REQUEST that does not quote it, and the process serves on (it exits 0 below).
    const answer = await rawAsk(signer.url, 'node1', `{"id":7,"method":"ping","${'x'.repeat(MAX_FRAME_BYTES - 64)}":1}`)
    expect(answer).toMatchObject({ id: 7, error: { code: 'BAD_REQUEST' } })
    expect(JSON.stringify(answer).length).toBeLessThan(512)
    // A vote at 2^53 - 1 is refused and not recorded: the next height still signs.
    const far = await again.signVote({
      type: MsgType.PRECOMMIT,
      height: Number.MAX_SAFE_INTEGER,
      round: 0,
      blockHash: A,
    })
    expect(far).toMatchObject({ refused: expect.stringMatching(/ahead/) })
    expect(await again.signVote({ type: MsgType.PRECOMMIT, height: 10, round: 0, blockHash: A })).toHaveProperty(
      'signature',
    )
    // The log line goes out through an async writer, independent of the answer: read it once the
    // signer has exited and its pipes are drained.
    for (const c of clients.splice(0)) c.close()
    expect(await signer.stop()).toBe(0)
    live.splice(live.indexOf(signer), 1)
    expect(signer.stdout()).toMatch(/refused a double sign/)
  }, 180_000)
})
