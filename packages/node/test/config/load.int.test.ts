// The config loader: defaults < file < env < flags, TOML and JSON files, CAIRN_* names, and error
// messages that name the key, the value and the source.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConfigInputs, loadConfig } from '../../src/config/load.ts'

let dir: string
let n = 0

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-config-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Writes a config file in the temp dir and returns its path. */
function file(ext: 'toml' | 'json', text: string): string {
  const path = join(dir, `c${n++}.${ext}`)
  writeFileSync(path, text)
  return path
}

/** The CairnError loadConfig throws for `inputs` (fails the test when it does not throw). */
function configError(inputs: ConfigInputs): { code: string; message: string; fault: string } {
  try {
    loadConfig(inputs)
  } catch (err) {
    return err as { code: string; message: string; fault: string }
  }
  throw new Error(`loadConfig(${JSON.stringify(inputs)}) did not throw`)
}

describe('defaults', () => {
  it('with no input, every key has its documented default', () => {
    const c = loadConfig({ flags: {}, env: {} })
    expect(c.http).toEqual({
      addr: '127.0.0.1',
      port: 8545,
      cors: [],
      vhosts: ['localhost'],
      maxConnectionsPerIp: 512,
      maxConnections: 'auto',
      firstByteTimeoutMs: 5_000,
      requestTimeoutMs: 30_000,
      shedLagMs: 0,
      trustProxy: [],
      maxRequestBytes: 5 * 1024 * 1024,
    })
    expect(c.log).toMatchObject({ level: 'info', format: 'auto' })
    expect(c.dev).toBe(false)
    expect(c.ephemeral).toBe(false)
    expect(c.blockTime).toBe(0)
    expect(c.chainId).toBeUndefined()
    expect(c.datadir).toBeUndefined()
    expect(c.dev_accounts.count).toBe(10)
    expect(c.dev_accounts.balance).toBe(10_000n * 10n ** 18n)
    expect(c.txpool.priceBump).toBe(10)
    expect(c.rpc.threads).toBe('auto')
    expect(c.rpc.threadListeners).toBe(true)
  })

  it('flags that are undefined (not given on the command line) do not count', () => {
    const c = loadConfig({ flags: { 'http.port': undefined, dev: undefined, blockTime: undefined }, env: {} })
    expect(c.http.port).toBe(8545)
    expect(c.dev).toBe(false)
  })
})

describe('precedence: defaults < file < env < flags', () => {
  it('the same key from all four sources: the flag wins, then env, then file, then the default', () => {
    const toml = file('toml', '[http]\nport = 1001\n')
    const env = { CAIRN_HTTP_PORT: '1002' }
    const flags = { 'http.port': '1003' }
    expect(loadConfig({ file: toml, env, flags }).http.port).toBe(1003)
    expect(loadConfig({ file: toml, env, flags: {} }).http.port).toBe(1002)
    expect(loadConfig({ file: toml, env: {}, flags: {} }).http.port).toBe(1001)
    expect(loadConfig({ env: {}, flags: {} }).http.port).toBe(8545)
    // flags over the file when the environment says nothing
    expect(loadConfig({ file: toml, env: {}, flags }).http.port).toBe(1003)
    // env over the default when there is no file
    expect(loadConfig({ env, flags: {} }).http.port).toBe(1002)
  })

  it('precedence holds for top-level keys (blockTime) and enums (log.level) too', () => {
    const toml = file('toml', 'blockTime = 1\n[log]\nlevel = "debug"\n')
    const env = { CAIRN_BLOCK_TIME: '2', CAIRN_LOG_LEVEL: 'warn' }
    const flags = { blockTime: '3', 'log.level': 'error' }
    const all = loadConfig({ file: toml, env, flags })
    expect([all.blockTime, all.log.level]).toEqual([3, 'error'])
    const noFlags = loadConfig({ file: toml, env, flags: {} })
    expect([noFlags.blockTime, noFlags.log.level]).toEqual([2, 'warn'])
    const fileOnly = loadConfig({ file: toml, env: {}, flags: {} })
    expect([fileOnly.blockTime, fileOnly.log.level]).toEqual([1, 'debug'])
  })

  it('sources merge key by key: a flag for http.port keeps http.addr from the file', () => {
    const toml = file('toml', '[http]\naddr = "127.0.0.2"\nport = 1001\n')
    const c = loadConfig({ file: toml, env: { CAIRN_LOG_FORMAT: 'json' }, flags: { 'http.port': '9000' } })
    expect(c.http).toMatchObject({ addr: '127.0.0.2', port: 9000 })
    expect(c.log).toMatchObject({ level: 'info', format: 'json' })
  })
})

describe('files', () => {
  it('reads TOML (tables are nested keys)', () => {
    const toml = file(
      'toml',
      'dev = true\nchainId = 42\n[http]\nport = 1234\naddr = "0.0.0.0"\n[txpool]\npriceBump = 20\n[dev_accounts]\ncount = 3\n',
    )
    const c = loadConfig({ file: toml, env: {}, flags: {} })
    expect(c.dev).toBe(true)
    expect(c.chainId).toBe(42)
    expect(c.http).toMatchObject({ addr: '0.0.0.0', port: 1234 })
    expect(c.txpool.priceBump).toBe(20)
    expect(c.dev_accounts.count).toBe(3)
  })

  it('reads JSON when the name ends in .json', () => {
    const json = file('json', JSON.stringify({ dev: true, http: { port: 4321 }, log: { level: 'warn' } }))
    const c = loadConfig({ file: json, env: {}, flags: {} })
    expect(c.dev).toBe(true)
    expect(c.http.port).toBe(4321)
    expect(c.log.level).toBe('warn')
  })

  it('a missing file is CONFIG_UNREADABLE naming the path', () => {
    const path = join(dir, 'does-not-exist.toml')
    const err = configError({ file: path, env: {}, flags: {} })
    expect(err).toMatchObject({ code: 'CONFIG_UNREADABLE', fault: 'caller' })
    expect(err.message).toContain(path)
  })

  it('a file that does not parse is CONFIG_INVALID naming the path', () => {
    const toml = file('toml', '[http\nport = \n')
    const err = configError({ file: toml, env: {}, flags: {} })
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', fault: 'caller' })
    expect(err.message).toContain(toml)
    expect(err.message).not.toContain('\n')
    const json = file('json', '{"http": ')
    expect(configError({ file: json, env: {}, flags: {} }).message).toContain(json)
  })
})

describe('the environment', () => {
  it('CAIRN_HTTP_PORT → http.port, CAIRN_HTTP_ADDR → http.addr, CAIRN_BLOCK_TIME → blockTime', () => {
    const c = loadConfig({
      flags: {},
      env: {
        CAIRN_HTTP_PORT: '7777',
        CAIRN_HTTP_ADDR: '0.0.0.0',
        CAIRN_BLOCK_TIME: '5',
        CAIRN_CHAIN_ID: '99',
        CAIRN_DEV: 'true',
        CAIRN_EPHEMERAL: 'false',
        CAIRN_TXPOOL_PRICE_BUMP: '15',
        CAIRN_DEV_ACCOUNTS_COUNT: '2',
        CAIRN_LOG_FORMAT: 'json',
      },
    })
    expect(c.http).toMatchObject({ addr: '0.0.0.0', port: 7777 })
    expect(c.blockTime).toBe(5)
    expect(c.chainId).toBe(99)
    expect(c.dev).toBe(true)
    expect(c.ephemeral).toBe(false)
    expect(c.txpool.priceBump).toBe(15)
    expect(c.dev_accounts.count).toBe(2)
    expect(c.log.format).toBe('json')
  })

  it('ignores variables without the CAIRN_ prefix, CAIRN_PASSWORD, and unset (undefined) ones', () => {
    const c = loadConfig({
      flags: {},
      env: { HTTP_PORT: '1', PATH: '/bin', CAIRN_PASSWORD: 'secret', CAIRN_HTTP_PORT: undefined },
    })
    expect(c.http.port).toBe(8545)
  })

  it('CAIRN_ variables that name no config key belong to other tools and are ignored', () => {
    const c = loadConfig({
      flags: {},
      env: { CAIRN_E2E_ANVIL: '1', CAIRN_HTTP_BOGUS: 'x', CAIRN_LOG: 'y', CAIRN_HTTP_PORT: '8600' },
    })
    expect(c.http.port).toBe(8600)
    expect(c).not.toHaveProperty('e2eAnvil')
  })

  it('nested keys with camelCase names map from SNAKE_CASE variables', () => {
    const c = loadConfig({
      flags: {},
      env: {
        CAIRN_TXPOOL_MIN_TIP: '7',
        CAIRN_TXPOOL_GLOBAL_SLOTS: '99',
        CAIRN_TXPOOL_GLOBAL_QUEUE: '3',
        CAIRN_DEV_ACCOUNTS_BALANCE: '123',
        CAIRN_DEV_ACCOUNTS_MNEMONIC: 'abandon abandon about',
      },
    })
    expect(c.txpool).toMatchObject({ minTip: 7n, globalSlots: 99, globalQueue: 3 })
    expect(c.dev_accounts).toMatchObject({ balance: 123n, mnemonic: 'abandon abandon about' })
  })

  it('a bad value of a camelCase key names the variable as it is spelled', () => {
    const err = configError({ flags: {}, env: { CAIRN_TXPOOL_GLOBAL_SLOTS: 'lots' } })
    expect(err.message).toContain('txpool.globalSlots')
    expect(err.message).toContain('environment CAIRN_TXPOOL_GLOBAL_SLOTS')
    expect(err.message).toContain('"lots"')
  })
})

describe('errors name the key, the value and where it came from', () => {
  it('a bad flag value', () => {
    const err = configError({ flags: { 'http.port': 'abc' }, env: {} })
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', fault: 'caller' })
    expect(err.message).toContain('http.port')
    expect(err.message).toContain('"abc"')
    expect(err.message).toContain('flag --http.port')
  })

  it('a bad environment value', () => {
    const err = configError({ flags: {}, env: { CAIRN_HTTP_PORT: 'notanumber' } })
    expect(err.message).toContain('http.port')
    expect(err.message).toContain('"notanumber"')
    expect(err.message).toContain('environment CAIRN_HTTP_PORT')
  })

  it('a bad file value', () => {
    const toml = file('toml', '[http]\nport = 70000\n')
    const err = configError({ file: toml, env: {}, flags: {} })
    expect(err.message).toContain('http.port')
    expect(err.message).toContain('70000')
    expect(err.message).toContain(`config file ${toml}`)
  })

  it('the source named is the one whose value won', () => {
    const toml = file('toml', '[http]\nport = 1\n')
    const err = configError({ file: toml, env: { CAIRN_HTTP_PORT: '-1' }, flags: {} })
    expect(err.message).toContain('environment CAIRN_HTTP_PORT')
    expect(err.message).toContain('"-1"')
  })

  it('an unknown key inside a known table of a TOML file', () => {
    const toml = file('toml', '[http]\nbogus = 1\n')
    const err = configError({ file: toml, env: {}, flags: {} })
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', fault: 'caller' })
    expect(err.message).toContain('http.bogus')
    expect(err.message).toContain('unknown key')
    expect(err.message).toContain(`config file ${toml}`)
  })

  it('an unknown top-level key of a JSON file', () => {
    const json = file('json', '{"bogus": 1}')
    const err = configError({ file: json, env: {}, flags: {} })
    expect(err.message).toContain('"bogus"')
    expect(err.message).toContain('unknown key')
    expect(err.message).toContain(`config file ${json}`)
  })

  it('an unknown flag key', () => {
    const err = configError({ flags: { bogus: 'x' }, env: {} })
    expect(err.message).toContain('"bogus"')
    expect(err.message).toContain('flag --bogus')
  })

  // Regression (was a bug in packages/node/src/config/load.ts:43): sources are recorded per flattened leaf key
  // ("htpp.port"), but zod reports an unknown *table* as the unknown key "htpp" at the root, and
  // sources.get('htpp') is undefined, so the message blames "(defaults)" instead of the file.
  it('an unknown table (a typo such as [htpp]) is blamed on the config file, not on the defaults', () => {
    const toml = file('toml', '[htpp]\nport = 1\n')
    const err = configError({ file: toml, env: {}, flags: {} })
    expect(err.message).toContain('htpp')
    expect(err.message).toContain(`config file ${toml}`)
  })

  // Regression (was a bug in same cause as above): an unknown object in a JSON file is blamed on the defaults.
  it('an unknown nested table in a JSON file is blamed on the file', () => {
    const json = file('json', JSON.stringify({ rpc: { port: 1 } }))
    const err = configError({ file: json, env: {}, flags: {} })
    expect(err.message).toContain(`config file ${json}`)
  })

  // Regression (was a bug in packages/node/src/config/schema.ts:19, z.coerce.number): Number('') is 0, so an empty
  // value (`CAIRN_HTTP_PORT= cairn start`, `--http.port ''`) silently means "any free port"
  // instead of being refused (or treated as unset).
  it('an empty CAIRN_HTTP_PORT is refused, not read as port 0', () => {
    const err = configError({ flags: {}, env: { CAIRN_HTTP_PORT: '' } })
    expect(err.message).toContain('CAIRN_HTTP_PORT')
  })
})

describe('property: any valid port from any single source ends up in config.http.port', () => {
  type Source = 'flag' | 'env' | 'toml' | 'json'
  const inputsFor = (source: Source, port: number, asString: boolean): ConfigInputs => {
    switch (source) {
      case 'flag':
        return { flags: { 'http.port': asString ? String(port) : port }, env: {} }
      case 'env':
        return { flags: {}, env: { CAIRN_HTTP_PORT: String(port) } }
      case 'toml':
        return { file: file('toml', `[http]\nport = ${port}\n`), flags: {}, env: {} }
      case 'json':
        return {
          file: file('json', JSON.stringify({ http: { port: asString ? String(port) : port } })),
          flags: {},
          env: {},
        }
    }
  }

  it('valid ports are taken as given', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.constantFrom<Source>('flag', 'env', 'toml', 'json'),
        fc.boolean(),
        (port, source, asString) => {
          expect(loadConfig(inputsFor(source, port, asString)).http.port).toBe(port)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('out-of-range ports are refused, naming http.port and the source', () => {
    const names: Record<Source, string> = {
      flag: 'flag --http.port',
      env: 'environment CAIRN_HTTP_PORT',
      toml: 'config file',
      json: 'config file',
    }
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 65536, max: 2 ** 31 }), fc.integer({ min: -(2 ** 31), max: -1 })),
        fc.constantFrom<Source>('flag', 'env', 'toml', 'json'),
        (port, source) => {
          const err = configError(inputsFor(source, port, false))
          expect(err.code).toBe('CONFIG_INVALID')
          expect(err.message).toContain('http.port')
          expect(err.message).toContain(String(port))
          expect(err.message).toContain(names[source])
        },
      ),
      { numRuns: 100 },
    )
  })

  it('the highest-precedence source among any subset of the four wins', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            toml: fc.integer({ min: 1, max: 65535 }),
            env: fc.integer({ min: 1, max: 65535 }),
            flag: fc.integer({ min: 1, max: 65535 }),
          },
          { requiredKeys: [] },
        ),
        (given) => {
          const inputs: ConfigInputs = {
            flags: given.flag === undefined ? {} : { 'http.port': String(given.flag) },
            env: given.env === undefined ? {} : { CAIRN_HTTP_PORT: String(given.env) },
            ...(given.toml === undefined ? {} : { file: file('toml', `[http]\nport = ${given.toml}\n`) }),
          }
          expect(loadConfig(inputs).http.port).toBe(given.flag ?? given.env ?? given.toml ?? 8545)
        },
      ),
      { numRuns: 100 },
    )
  })
})
