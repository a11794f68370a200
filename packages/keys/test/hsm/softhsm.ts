/**
 * A SoftHSM2 token store of a test's own: a temporary tokendir and the config naming it
 * (SOFTHSM2_CONF, read by the PKCS#11 module), and tokens initialized with `softhsm2-util`.
 * Never /var/lib/softhsm.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so'

/** Why SoftHSM2 tests cannot run here, or null when they can. */
export function softHsmMissing(): string | null {
  if (!existsSync(SOFTHSM_MODULE)) return `SoftHSM2 module ${SOFTHSM_MODULE} absent (apt-get install softhsm2)`
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' })
  } catch {
    return 'softhsm2-util absent (apt-get install softhsm2)'
  }
  return null
}

export interface SoftHsm {
  dir: string
  /** The config file (SOFTHSM2_CONF). */
  conf: string
  /** Initializes a token (user PIN `pin`, SO PIN 5678). */
  initToken(label: string, pin?: string): void
  remove(): void
}

export function makeSoftHsm(prefix = 'cairn-softhsm-'): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  mkdirSync(join(dir, 'tokens'))
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`)
  return {
    dir,
    conf,
    initToken(label, pin = '1234') {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '5678'], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        stdio: 'ignore',
      })
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
