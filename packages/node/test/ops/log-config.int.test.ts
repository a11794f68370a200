import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createLogger } from '@cairn/service-kit'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, loadConfigWithSources } from '../../src/config/load.ts'
import { loggerOptions } from '../../src/config/log.ts'
import { printConfig } from '../../src/config/print.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-log-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('log.* config', () => {
  it('per-module levels from a file or the environment reach the module loggers', () => {
    const file = join(dir, 'cairn.toml')
    writeFileSync(file, '[log]\nlevel = "warn"\nformat = "json"\n[log.modules]\nrpc = "debug"\n')
    const opts = loggerOptions(loadConfig({ file, flags: { dev: true }, env: {} }))
    expect(opts).toMatchObject({ level: 'warn', modules: { rpc: 'debug' } })
    const lines: { module?: string; msg: string }[] = []
    const destination = new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
        cb()
      },
    })
    const logger = createLogger({ ...opts, destination })
    logger.child({ module: 'rpc' }).debug('rpc detail')
    logger.child({ module: 'chain' }).info('chain info')
    logger.child({ module: 'chain' }).warn('chain warning')
    expect(lines.map((l) => l.msg)).toEqual(['rpc detail', 'chain warning'])

    const env = loggerOptions(loadConfig({ flags: { dev: true }, env: { CAIRN_LOG_MODULES: '{"txpool":"error"}' } }))
    expect(env.modules).toEqual({ txpool: 'error' })
    // `cairn config print` names where each module level came from.
    const printed = printConfig(
      loadConfigWithSources({ flags: { dev: true }, env: { CAIRN_LOG_MODULES: '{"txpool":"error"}' } }),
    )
    expect(printed).toContain('log.modules.txpool = "error"  # env')
    expect(printConfig(loadConfigWithSources({ file, flags: { dev: true }, env: {} }))).toContain(
      'log.modules.rpc = "debug"  # file',
    )
  })

  it('a bad module level names the key and where it came from', () => {
    expect(() => loadConfig({ flags: { dev: true }, env: { CAIRN_LOG_MODULES: '{"txpool":"loud"}' } })).toThrow(
      /config "log\.modules" \(environment CAIRN_LOG_MODULES\): bad value .*loud.*expected one of/,
    )
  })

  it('log.file and rotation keys become the logger file options (CAIRN_LOG_FILE is the path, not a secret file)', () => {
    const opts = loggerOptions(
      loadConfig({
        flags: { dev: true },
        env: {
          CAIRN_LOG_FILE: join(dir, 'node.log'),
          CAIRN_LOG_ROTATE_SIZE: '10m',
          CAIRN_LOG_ROTATE_INTERVAL: 'daily',
          CAIRN_LOG_ROTATE_KEEP: '3',
        },
      }),
    )
    expect(opts.file).toEqual({ path: join(dir, 'node.log'), size: '10m', interval: 'daily', keep: 3 })
    expect(() => loadConfig({ flags: { dev: true }, env: { CAIRN_LOG_ROTATE_SIZE: '10 MB' } })).toThrow(
      /log\.rotateSize.*a size like 500k/,
    )
  })
})
