/**
 * The PKCS#11 library of an HSM, loaded once per process (`pkcs11js`, imported only when an HSM
 * is configured, so a node without one never loads the native module). C_Initialize may be called
 * once per process and library: tokens share the loaded library, counted, and the last one closed
 * finalizes it.
 */
import { CairnError, errorMessage } from '@cairn/utils'
import type * as Pkcs11js from 'pkcs11js'
import { KeysErrorCode } from '../errors.ts'

export type Pkcs11Api = typeof Pkcs11js

export interface LoadedModule {
  readonly api: Pkcs11Api
  readonly p11: Pkcs11js.PKCS11
  readonly path: string
  /** Releases this holder's use; the last one finalizes the library. */
  release(): void
}

const loaded = new Map<string, { api: Pkcs11Api; p11: Pkcs11js.PKCS11; users: number }>()

/** The PKCS#11 library at `path`, loaded and initialized (or the one already loaded). */
export async function loadPkcs11Module(path: string): Promise<LoadedModule> {
  let entry = loaded.get(path)
  if (entry === undefined) {
    let api: Pkcs11Api
    try {
      const mod = (await import('pkcs11js')) as unknown as { default?: Pkcs11Api } & Pkcs11Api
      api = mod.default ?? mod
    } catch (err) {
      throw new CairnError(KeysErrorCode.HSM_MODULE, `the pkcs11js binding cannot be loaded: ${errorMessage(err)}`, {
        fault: 'caller',
        cause: err,
        hint: 'install the node dependencies (pkcs11js is a native N-API module)',
      })
    }
    const p11 = new api.PKCS11()
    try {
      p11.load(path)
    } catch (err) {
      throw new CairnError(KeysErrorCode.HSM_MODULE, `cannot load the PKCS#11 module ${path}: ${errorMessage(err)}`, {
        fault: 'caller',
        cause: err,
        hint: "point the module path at the HSM vendor's PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)",
      })
    }
    try {
      p11.C_Initialize()
    } catch (err) {
      if (pkcs11Code(err) !== api.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new CairnError(
          KeysErrorCode.HSM_MODULE,
          `the PKCS#11 module ${path} does not initialize: ${errorMessage(err)}`,
          {
            fault: 'caller',
            cause: err,
            hint: "check the module's own configuration (SoftHSM2: SOFTHSM2_CONF and its tokendir)",
          },
        )
      }
    }
    entry = { api, p11, users: 0 }
    loaded.set(path, entry)
  }
  entry.users++
  const e = entry
  let released = false
  return {
    api: e.api,
    p11: e.p11,
    path,
    release() {
      if (released) return
      released = true
      if (--e.users > 0) return
      loaded.delete(path)
      try {
        e.p11.C_Finalize()
      } catch {
        // Finalizing a library whose device is gone: nothing is left to release.
      }
    },
  }
}

/** The CKR_* code of a PKCS#11 error (undefined: not one). */
export function pkcs11Code(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}
