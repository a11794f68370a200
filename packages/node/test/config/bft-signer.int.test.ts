// `bft.signer`: the local backend by default; a remote one from a TOML table or CAIRN_BFT_SIGNER
// (JSON); a bad url refused by the loader; and at start, an unreadable TLS file or an unreachable
// signer is a start error that says which. On a hybrid or ml-dsa-65 chain a remote signer holding
// the next key with its seed starts a node that follows the rotation (`nextAddress`), and one whose
// key joined after the genesis connects (its key is checked against each height's set).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BftEngine } from '@cairn/consensus'
import { rawDigestKey } from '@cairn/consensus/pq'
import {
  FileProtectionStore,
  hybridDigestKey,
  mlDsaDigestKey,
  type SchemeDigestKey,
  SignerServer,
  SignProtection,
} from '@cairn/consensus/privval'
import { NextKeyPromotion } from '@cairn/consensus/validator-keys'
import { keccak256 } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { bytesToHex, isCairnError, silentLogger, writerLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { makePki, UNIT_PEM } from '../../../consensus/test/privval/tls-fixture.ts'
import { loadConfig } from '../../src/config/load.ts'
import { createEngine } from '../../src/engine.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-bft-signer-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const genesis = {
  config: { chainId: 1337, cairn: { bft: { validators: [{ address: `0x${'11'.repeat(20)}`, power: 10 }] } } },
  alloc: {},
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

describe('bft.signer in the config', () => {
  it('is local by default; remote from a TOML table and from CAIRN_BFT_SIGNER', () => {
    expect(loadConfig({ flags: {}, env: {} }).bft.signer).toEqual({ kind: 'local' })
    const path = join(dir, 'node.toml')
    writeFileSync(
      path,
      '[bft.signer]\nkind = "remote"\nurl = "tls://10.0.0.5:9797"\nca = "ca.pem"\ncert = "n.pem"\nkey = "n-key.pem"\n',
    )
    expect(loadConfig({ flags: {}, env: {}, file: path }).bft.signer).toEqual({
      kind: 'remote',
      url: 'tls://10.0.0.5:9797',
      ca: 'ca.pem',
      cert: 'n.pem',
      key: 'n-key.pem',
      timeoutMs: 1000,
    })
    const env = {
      CAIRN_BFT_SIGNER: JSON.stringify({
        kind: 'remote',
        url: 'tls://h:1',
        ca: 'a',
        cert: 'b',
        key: 'c',
        timeoutMs: 300,
      }),
    }
    expect(loadConfig({ flags: {}, env }).bft.signer).toMatchObject({
      kind: 'remote',
      url: 'tls://h:1',
      timeoutMs: 300,
    })
    // A rotation under way: the key it rotates to, held by the same signer.
    const next = `0x${'ab'.repeat(20)}`
    writeFileSync(
      path,
      `[bft.signer]\nkind = "remote"\nurl = "tls://h:1"\nca = "a"\ncert = "b"\nkey = "c"\nnextAddress = "${next}"\n`,
    )
    expect(loadConfig({ flags: {}, env: {}, file: path }).bft.signer).toMatchObject({ nextAddress: next })
    writeFileSync(
      path,
      '[bft.signer]\nkind = "remote"\nurl = "tls://h:1"\nca = "a"\ncert = "b"\nkey = "c"\nnextAddress = "0x12"\n',
    )
    expect(() => loadConfig({ flags: {}, env: {}, file: path })).toThrow(/bft\.signer.*nextAddress.*an address/)
  })

  it('refuses a url that is not tls://HOST:PORT, naming the key', () => {
    const env = {
      CAIRN_BFT_SIGNER: JSON.stringify({ kind: 'remote', url: 'http://h:1', ca: 'a', cert: 'b', key: 'c' }),
    }
    expect(() => loadConfig({ flags: {}, env })).toThrow(/bft\.signer.*tls:\/\/HOST:PORT/)
  })
})

describe('a remote signer at start', () => {
  const remote = (over: Record<string, string>) =>
    loadConfig({
      flags: {},
      env: {
        CAIRN_BFT_SIGNER: JSON.stringify({
          kind: 'remote',
          url: 'tls://127.0.0.1:1',
          ca: 'x',
          cert: 'x',
          key: 'x',
          ...over,
        }),
      },
    })
  const modules = {
    logger: silentLogger,
    genesis,
    kv: new MemoryKV(),
    keys: null,
    keysDir: null,
    signerStatePath: null,
    registry: null,
    walDir: null,
  }

  it('an unreadable TLS file: a start error naming the key and the file', async () => {
    const err = await createEngine(remote({ ca: join(dir, 'absent.pem') }), modules).catch((e: unknown) => e)
    expect(isCairnError(err, 'CONSENSUS_BFT_SIGNER_CONFIG')).toBe(true)
    expect((err as Error).message).toMatch(/bft\.signer\.ca: cannot read .*absent\.pem/)
  })

  it('an unreachable signer: a start error saying so, with what to check', async () => {
    const cert = join(dir, 'cert.pem')
    const key = join(dir, 'key.pem')
    writeFileSync(cert, UNIT_PEM.cert)
    writeFileSync(key, UNIT_PEM.key)
    const port = await closedPort()
    const err = await createEngine(remote({ url: `tls://127.0.0.1:${port}`, ca: cert, cert, key }), modules).catch(
      (e: unknown) => e,
    )
    expect(isCairnError(err, 'CONSENSUS_BFT_SIGNER_UNAVAILABLE')).toBe(true)
    expect((err as Error).message).toMatch(new RegExp(`remote signer tls://127.0.0.1:${port} unreachable`))
    expect((err as { hint?: string }).hint).toMatch(/cairn signer serve/)
  })
})

describe('a remote signer on a post-quantum chain at start', () => {
  const seed = (n: number) => new Uint8Array(32).fill(n)
  const keyOf = (scheme: 'hybrid' | 'ml-dsa-65', n: number): SchemeDigestKey =>
    scheme === 'hybrid'
      ? hybridDigestKey({ secpKey: rawDigestKey(keccak256(seed(n))), pqSeed: seed(n) })
      : mlDsaDigestKey({ pqSeed: seed(n) })

  /** A signer holding `keys`, and the files of a node pinned by it. */
  async function serve(scheme: 'hybrid' | 'ml-dsa-65', keys: SchemeDigestKey[], name: string) {
    const pki = makePki(['node'])
    const node = pki.clients.node as { cert: string; key: string }
    const store = new FileProtectionStore({ dir: join(dir, `${name}-db`) })
    const server = new SignerServer(
      {
        chainId: 1337n,
        host: '127.0.0.1',
        port: 0,
        tls: { ...pki.server, ca: [pki.ca], clients: [node.cert] },
        scheme,
      },
      { keys, protection: new SignProtection({ store }), logger: silentLogger },
    )
    const { port } = await server.listen()
    const files = { ca: join(dir, `${name}-ca.pem`), cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) }
    writeFileSync(files.ca, pki.ca)
    writeFileSync(files.cert, node.cert)
    writeFileSync(files.key, node.key)
    return {
      signer: { kind: 'remote', url: `tls://127.0.0.1:${port}`, ...files },
      close: async () => {
        await server.close()
        store.close()
      },
    }
  }
  const start = (scheme: 'hybrid' | 'ml-dsa-65', genesisKey: SchemeDigestKey, signer: Record<string, string>) => {
    const lines: string[] = []
    const built = createEngine(loadConfig({ flags: {}, env: { CAIRN_BFT_SIGNER: JSON.stringify(signer) } }), {
      logger: writerLogger((_level, _fields, msg) => lines.push(msg)),
      genesis: {
        config: {
          chainId: 1337,
          cairn: {
            bft: {
              signatureScheme: scheme,
              validators: [
                {
                  address: bytesToHex(genesisKey.address),
                  power: 10,
                  pqPublicKey: bytesToHex(genesisKey.pqPublicKey as Uint8Array),
                },
              ],
            },
          },
        },
        alloc: {},
      },
      kv: new MemoryKV(),
      keys: null,
      keysDir: null,
      signerStatePath: null,
      registry: null,
      walDir: null,
    })
    return { built, lines }
  }

  it.each([
    'hybrid',
    'ml-dsa-65',
  ] as const)('%s: a signer holding the next key with its seed (nextAddress) starts a node that follows the rotation', async (scheme) => {
    const [current, next] = [keyOf(scheme, 41), keyOf(scheme, 42)]
    const s = await serve(scheme, [current, next], `rotate-${scheme}`)
    try {
      const { built } = start(scheme, current, {
        ...s.signer,
        address: bytesToHex(current.address),
        nextAddress: bytesToHex(next.address),
      })
      const b = await built
      expect(b.engine).toBeInstanceOf(BftEngine)
      expect(bytesToHex((b.engine as BftEngine).addressAt(1) as Uint8Array)).toBe(bytesToHex(current.address))
      // The promotion that says which config field to change once the chain rotated.
      expect(b.promotion).toBeInstanceOf(NextKeyPromotion)
      expect(b.promotion?.check(0n)).toBe(false)
      b.close?.()
    } finally {
      await s.close()
    }
  })

  it('a key the genesis does not hold (joined through staking) connects: checked against the sets when it signs', async () => {
    const [genesisKey, joiner] = [keyOf('ml-dsa-65', 43), keyOf('ml-dsa-65', 44)]
    const s = await serve('ml-dsa-65', [joiner], 'joiner')
    try {
      const { built, lines } = start('ml-dsa-65', genesisKey, s.signer)
      const b = await built
      expect(bytesToHex((b.engine as BftEngine).address as Uint8Array)).toBe(bytesToHex(joiner.address))
      expect(lines.some((l) => l.includes('checked against the key the validator set of its height registers'))).toBe(
        true,
      )
      b.close?.()
    } finally {
      await s.close()
    }
  })
})
