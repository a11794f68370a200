/**
 * A PKCS#11 token holding secp256k1 keys (validators', a trading or anchoring account's) (an HSM; SoftHSM2 in tests): found by its label, logged
 * in with the user PIN, one session for every key on it (PKCS#11 calls here are synchronous, and
 * Node runs one at a time). Keys are secp256k1 EC key pairs found by their label (CKA_LABEL): the
 * private key signs (CKM_ECDSA on the digest), the public key object gives the address.
 *
 * What a bad setup does at open: a module that does not load (KEYS_HSM_MODULE), no token of the
 * label (KEYS_HSM_TOKEN_ABSENT), a wrong PIN (KEYS_HSM_PIN_INCORRECT); at `key()`: no key of the
 * label (KEYS_HSM_KEY_ABSENT), a key on another curve or a token without ECDSA
 * (KEYS_HSM_KEY_UNSUPPORTED). Once open, a token that stops answering (device removed, session
 * lost) makes `sign` throw KEYS_KEY_UNAVAILABLE: the engine sends nothing for that step (the
 * validator misses a vote and stays safe); the next signature opens a new session and logs in again.
 */
import { privateKeyToAddress, privateKeyToPublicKey, publicKeyToAddress } from '@cairn/crypto'
import { bytesToHex, CairnError, errorMessage, type Hex, type Logger } from '@cairn/utils'
import type { Address } from '../digest-key.ts'
import { KeysErrorCode } from '../errors.ts'
import { ecPointToPublicKey, isSecp256k1Params, publicKeyToEcPoint, SECP256K1_OID_DER } from './ec-key.ts'
import type { HsmMetrics } from './hsm-metrics.ts'
import { Pkcs11Key } from './pkcs11-key.ts'
import { type LoadedModule, loadPkcs11Module, pkcs11Code } from './pkcs11-module.ts'

export interface Pkcs11TokenOptions {
  /** The PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so). */
  module: string
  /** The token's label (CKA_LABEL of the token, as `softhsm2-util --show-slots` prints it). */
  token: string
  /** The user PIN (read from a file by the caller). */
  pin: string
}

export interface Pkcs11TokenModules {
  logger?: Logger | null
  metrics?: HsmMetrics | null
  /** A monotonic clock in milliseconds, for the sign-time histogram (default `performance.now`). */
  now?: () => number
}

/** A key on the token, as `list` shows it. */
export interface HsmKeyInfo {
  label: string
  /** CKA_ID (hex; Cairn sets it to the address when it imports or generates). */
  id: Hex
  /** The address, or null when the key is not secp256k1 or has no public key object. */
  address: Address | null
  /** The uncompressed public key (65 bytes, hex), null as `address`. */
  publicKey: Hex | null
  curve: 'secp256k1' | 'other'
}

type Handle = Buffer

export class Pkcs11Token {
  readonly #opts: Pkcs11TokenOptions
  readonly #m: Pkcs11TokenModules
  readonly #mod: LoadedModule
  #session: Handle | null = null
  /** Private key handles by label, valid for the current session. */
  readonly #handles = new Map<string, Handle>()
  #down = false
  #closed = false

  private constructor(opts: Pkcs11TokenOptions, modules: Pkcs11TokenModules, mod: LoadedModule) {
    this.#opts = opts
    this.#m = modules
    this.#mod = mod
  }

  /** Loads the module, finds the token and logs in: each failure a clear start error. */
  static async open(opts: Pkcs11TokenOptions, modules: Pkcs11TokenModules = {}): Promise<Pkcs11Token> {
    const mod = await loadPkcs11Module(opts.module)
    const token = new Pkcs11Token(opts, modules, mod)
    try {
      token.#openSession()
    } catch (err) {
      mod.release()
      throw err
    }
    return token
  }

  /** The token's label. */
  get label(): string {
    return this.#opts.token
  }

  /** The key labelled `label`, checked: a secp256k1 private key with its public key, on a token that does ECDSA. */
  key(label: string): Pkcs11Key {
    const session = this.#live()
    this.#privateHandle(session, label)
    const publicKey = this.#publicKeyOf(session, label)
    const address = publicKeyToAddress(publicKey)
    return new Pkcs11Key(
      { label, address, publicKey },
      { token: this, metrics: this.#m.metrics ?? null, now: this.#m.now },
    )
  }

  /** Every EC private key on the token (other key types are not listed). */
  listKeys(): HsmKeyInfo[] {
    const { api, p11 } = this.#mod
    const session = this.#live()
    const out: HsmKeyInfo[] = []
    for (const h of this.#find(session, [
      { type: api.CKA_CLASS, value: api.CKO_PRIVATE_KEY },
      { type: api.CKA_KEY_TYPE, value: api.CKK_EC },
    ])) {
      const [label, id, params] = p11
        .C_GetAttributeValue(session, h, [{ type: api.CKA_LABEL }, { type: api.CKA_ID }, { type: api.CKA_EC_PARAMS }])
        .map((a) => a.value)
      const text = label?.toString('utf8') ?? ''
      const curve = params && isSecp256k1Params(params) ? 'secp256k1' : 'other'
      let publicKey: Uint8Array | null = null
      if (curve === 'secp256k1') {
        try {
          publicKey = this.#publicKeyOf(session, text)
        } catch {
          publicKey = null
        }
      }
      const address = publicKey ? publicKeyToAddress(publicKey) : null
      out.push({
        label: text,
        id: bytesToHex(id ?? new Uint8Array(0)),
        address,
        publicKey: publicKey ? bytesToHex(publicKey) : null,
        curve,
      })
    }
    return out.sort((a, b) => a.label.localeCompare(b.label))
  }

  /**
   * Puts `privateKey` on the token as `label`: a private key that never leaves it (sensitive, not
   * extractable) and its public key object; CKA_ID is the address.
   */
  importKey(label: string, privateKey: Uint8Array): HsmKeyInfo {
    const { api, p11 } = this.#mod
    const session = this.#live()
    this.#checkLabelFree(session, label)
    const address = privateKeyToAddress(privateKey)
    const publicKey = privateKeyToPublicKey(privateKey)
    const id = Buffer.from(address)
    const common = [
      { type: api.CKA_TOKEN, value: true },
      { type: api.CKA_KEY_TYPE, value: api.CKK_EC },
      { type: api.CKA_LABEL, value: label },
      { type: api.CKA_ID, value: id },
      { type: api.CKA_EC_PARAMS, value: Buffer.from(SECP256K1_OID_DER) },
    ]
    this.#unsupported(() => {
      const pub = p11.C_CreateObject(session, [
        { type: api.CKA_CLASS, value: api.CKO_PUBLIC_KEY },
        ...common,
        { type: api.CKA_VERIFY, value: true },
        { type: api.CKA_EC_POINT, value: Buffer.from(publicKeyToEcPoint(publicKey)) },
      ])
      try {
        p11.C_CreateObject(session, [
          { type: api.CKA_CLASS, value: api.CKO_PRIVATE_KEY },
          ...common,
          { type: api.CKA_PRIVATE, value: true },
          { type: api.CKA_SENSITIVE, value: true },
          { type: api.CKA_EXTRACTABLE, value: false },
          { type: api.CKA_SIGN, value: true },
          { type: api.CKA_VALUE, value: Buffer.from(privateKey) },
        ])
      } catch (err) {
        // No half-imported key: the label stays free for the next attempt.
        p11.C_DestroyObject(session, pub)
        throw err
      }
    }, 'import')
    return { label, id: bytesToHex(id), address, publicKey: bytesToHex(publicKey), curve: 'secp256k1' }
  }

  /** Makes a new secp256k1 key pair on the token (the private key never exists outside it). */
  generateKey(label: string): HsmKeyInfo {
    const { api, p11 } = this.#mod
    const session = this.#live()
    this.#checkLabelFree(session, label)
    const common = [
      { type: api.CKA_TOKEN, value: true },
      { type: api.CKA_LABEL, value: label },
    ]
    const pair = this.#unsupported(
      () =>
        p11.C_GenerateKeyPair(
          session,
          { mechanism: api.CKM_EC_KEY_PAIR_GEN },
          [
            ...common,
            { type: api.CKA_EC_PARAMS, value: Buffer.from(SECP256K1_OID_DER) },
            { type: api.CKA_VERIFY, value: true },
          ],
          [
            ...common,
            { type: api.CKA_PRIVATE, value: true },
            { type: api.CKA_SENSITIVE, value: true },
            { type: api.CKA_EXTRACTABLE, value: false },
            { type: api.CKA_SIGN, value: true },
          ],
        ),
      'generate',
    )
    const publicKey = this.#publicKeyOf(session, label)
    const address = publicKeyToAddress(publicKey)
    const id = Buffer.from(address)
    for (const h of [pair.publicKey, pair.privateKey])
      p11.C_SetAttributeValue(session, h, [{ type: api.CKA_ID, value: id }])
    return { label, id: bytesToHex(id), address, publicKey: bytesToHex(publicKey), curve: 'secp256k1' }
  }

  /**
   * `r ‖ s` of `digest` by the key labelled `label` (CKM_ECDSA). Throws KEYS_KEY_UNAVAILABLE
   * when the token does not sign; the session is then reopened on the next call.
   */
  signRaw(label: string, digest: Uint8Array): Uint8Array {
    const { api, p11 } = this.#mod
    let session: Handle
    try {
      session = this.#live()
    } catch (err) {
      throw this.#unavailable(err, 'session')
    }
    try {
      const key = this.#privateHandle(session, label)
      p11.C_SignInit(session, { mechanism: api.CKM_ECDSA }, key)
      const rs = p11.C_Sign(session, Buffer.from(digest), Buffer.alloc(64))
      this.#m.metrics?.up.set(1)
      if (this.#down) {
        this.#down = false
        this.#m.logger?.info({ token: this.#opts.token }, 'hsm: the token signs again')
      }
      return new Uint8Array(rs.buffer, rs.byteOffset, rs.length)
    } catch (err) {
      // Whatever failed, start from a new session next time (a lost session or login, a device back).
      this.#dropSession()
      const code = pkcs11Code(err)
      const lost = [
        api.CKR_SESSION_HANDLE_INVALID,
        api.CKR_SESSION_CLOSED,
        api.CKR_USER_NOT_LOGGED_IN,
        api.CKR_DEVICE_REMOVED,
        api.CKR_TOKEN_NOT_PRESENT,
        api.CKR_OBJECT_HANDLE_INVALID,
        api.CKR_KEY_HANDLE_INVALID,
      ].includes(code ?? -1)
      throw this.#unavailable(err, lost ? 'session' : 'device')
    }
  }

  /** Closes the session (the token logs out when its last session closes) and releases the module. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#dropSession()
    this.#mod.release()
  }

  #unavailable(err: unknown, reason: 'session' | 'device'): CairnError {
    this.#m.metrics?.signErrors.inc({ reason })
    this.#m.metrics?.up.set(0)
    if (!this.#down) {
      this.#down = true
      this.#m.logger?.warn({ token: this.#opts.token, err: errorMessage(err) }, 'hsm: the token does not sign')
    }
    if (err instanceof CairnError && err.code === KeysErrorCode.KEY_UNAVAILABLE) return err
    return new CairnError(
      KeysErrorCode.KEY_UNAVAILABLE,
      `HSM token "${this.#opts.token}" gave no signature: ${errorMessage(err)}`,
      { fault: 'transient', cause: err, hint: 'check the HSM (connected, powered, its PKCS#11 service up)' },
    )
  }

  #live(): Handle {
    if (this.#closed) {
      throw new CairnError(KeysErrorCode.KEY_UNAVAILABLE, `HSM token "${this.#opts.token}" is closed`, {
        fault: 'transient',
      })
    }
    return this.#session ?? this.#openSession()
  }

  #dropSession(): void {
    const s = this.#session
    this.#session = null
    this.#handles.clear()
    if (s === null) return
    try {
      this.#mod.p11.C_CloseSession(s)
    } catch {
      // Already gone with the device.
    }
  }

  #openSession(): Handle {
    const { api, p11 } = this.#mod
    const slot = this.#slot()
    let session: Handle
    try {
      session = p11.C_OpenSession(slot, api.CKF_SERIAL_SESSION | api.CKF_RW_SESSION)
    } catch (err) {
      throw new CairnError(
        KeysErrorCode.HSM_MODULE,
        `cannot open a session on HSM token "${this.#opts.token}": ${errorMessage(err)}`,
        { fault: 'transient', cause: err, hint: 'check the HSM and its PKCS#11 module' },
      )
    }
    try {
      p11.C_Login(session, api.CKU_USER, this.#opts.pin)
    } catch (err) {
      const code = pkcs11Code(err)
      if (code !== api.CKR_USER_ALREADY_LOGGED_IN) {
        try {
          p11.C_CloseSession(session)
        } catch {}
        if (code === api.CKR_PIN_INCORRECT || code === api.CKR_PIN_LEN_RANGE || code === api.CKR_PIN_LOCKED) {
          throw new CairnError(
            KeysErrorCode.HSM_PIN_INCORRECT,
            code === api.CKR_PIN_LOCKED
              ? `HSM token "${this.#opts.token}": the user PIN is locked (too many wrong PINs)`
              : `HSM token "${this.#opts.token}" refused the PIN`,
            {
              fault: 'caller',
              cause: err,
              hint:
                code === api.CKR_PIN_LOCKED
                  ? 'unlock it with the SO PIN (softhsm2-util / the vendor tool), then fix the PIN file'
                  : 'check the PIN file: its whole content, less one trailing newline, is the PIN',
            },
          )
        }
        throw new CairnError(
          KeysErrorCode.HSM_MODULE,
          `cannot log in to HSM token "${this.#opts.token}": ${errorMessage(err)}`,
          { fault: 'transient', cause: err, hint: 'check the HSM and its PKCS#11 module' },
        )
      }
    }
    this.#session = session
    this.#m.metrics?.up.set(1)
    return session
  }

  #slot(): Handle {
    const { p11 } = this.#mod
    const labels: string[] = []
    for (const slot of p11.C_GetSlotList(true)) {
      const label = p11.C_GetTokenInfo(slot).label.trimEnd()
      if (label === this.#opts.token) return slot
      labels.push(label)
    }
    throw new CairnError(
      KeysErrorCode.HSM_TOKEN_ABSENT,
      `no HSM token labelled "${this.#opts.token}" in ${this.#mod.path}`,
      {
        fault: 'caller',
        hint: `set the token label to one present: ${
          labels
            .filter((l) => l !== '')
            .map((l) => `"${l}"`)
            .join(', ') || 'none'
        }; softhsm2-util --show-slots lists SoftHSM2's`,
      },
    )
  }

  #find(session: Handle, template: { type: number; value: number | string | boolean | Buffer }[]): Handle[] {
    const { p11 } = this.#mod
    p11.C_FindObjectsInit(session, template)
    try {
      const out: Handle[] = []
      for (;;) {
        const batch = p11.C_FindObjects(session, 32)
        out.push(...batch)
        if (batch.length < 32) return out
      }
    } finally {
      p11.C_FindObjectsFinal(session)
    }
  }

  #checkLabelFree(session: Handle, label: string): void {
    if (label === '')
      throw new CairnError(KeysErrorCode.HSM_KEY_EXISTS, 'an HSM key needs a label', { fault: 'caller' })
    if (this.#find(session, [{ type: this.#mod.api.CKA_LABEL, value: label }]).length > 0) {
      throw new CairnError(
        KeysErrorCode.HSM_KEY_EXISTS,
        `HSM token "${this.#opts.token}" already holds an object labelled "${label}"`,
        { fault: 'caller', hint: 'choose another label (`cairn signer hsm list` shows the keys)' },
      )
    }
  }

  #privateHandle(session: Handle, label: string): Handle {
    const known = this.#handles.get(label)
    if (known) return known
    const { api, p11 } = this.#mod
    const found = this.#find(session, [
      { type: api.CKA_CLASS, value: api.CKO_PRIVATE_KEY },
      { type: api.CKA_LABEL, value: label },
    ])
    if (found.length === 0) {
      throw new CairnError(
        KeysErrorCode.HSM_KEY_ABSENT,
        `HSM token "${this.#opts.token}" holds no private key labelled "${label}"`,
        {
          fault: 'caller',
          hint: 'import one (`cairn signer hsm import`) or generate one (`cairn signer hsm generate`); `cairn signer hsm list` shows the keys',
        },
      )
    }
    if (found.length > 1) {
      throw new CairnError(
        KeysErrorCode.HSM_KEY_EXISTS,
        `HSM token "${this.#opts.token}" holds ${found.length} private keys labelled "${label}"`,
        { fault: 'caller', hint: 'give each key its own label' },
      )
    }
    const handle = found[0] as Handle
    const [type, params] = p11
      .C_GetAttributeValue(session, handle, [{ type: api.CKA_KEY_TYPE }, { type: api.CKA_EC_PARAMS }])
      .map((a) => a.value)
    if (type?.readUInt32LE(0) !== api.CKK_EC || params === undefined || !isSecp256k1Params(params)) {
      throw new CairnError(KeysErrorCode.HSM_KEY_UNSUPPORTED, `HSM key "${label}" is not a secp256k1 EC key`, {
        fault: 'caller',
        hint: 'validators sign with secp256k1: import or generate a secp256k1 key',
      })
    }
    const slotMechanisms = p11.C_GetMechanismList(p11.C_GetSessionInfo(session).slotID)
    if (!slotMechanisms.includes(api.CKM_ECDSA)) {
      throw new CairnError(
        KeysErrorCode.HSM_KEY_UNSUPPORTED,
        `HSM token "${this.#opts.token}" does not sign with ECDSA (CKM_ECDSA)`,
        { fault: 'caller', hint: 'use a token that supports CKM_ECDSA on secp256k1' },
      )
    }
    this.#handles.set(label, handle)
    return handle
  }

  /** The address of the public key object labelled `label` (CKA_EC_POINT). */
  /** The uncompressed public key of the public key object labelled `label` (CKA_EC_POINT). */
  #publicKeyOf(session: Handle, label: string): Uint8Array {
    const { api, p11 } = this.#mod
    const found = this.#find(session, [
      { type: api.CKA_CLASS, value: api.CKO_PUBLIC_KEY },
      { type: api.CKA_LABEL, value: label },
    ])
    const point = found[0]
      ? p11.C_GetAttributeValue(session, found[0], [{ type: api.CKA_EC_POINT }])[0]?.value
      : undefined
    const publicKey = point ? ecPointToPublicKey(point) : null
    if (publicKey === null) {
      throw new CairnError(
        KeysErrorCode.HSM_KEY_ABSENT,
        `HSM token "${this.#opts.token}" holds no usable public key labelled "${label}" (the address comes from it)`,
        { fault: 'caller', hint: 'import the key with `cairn signer hsm import`, which writes both objects' },
      )
    }
    return publicKey
  }

  #unsupported<T>(fn: () => T, what: 'import' | 'generate'): T {
    const { api } = this.#mod
    try {
      return fn()
    } catch (err) {
      const code = pkcs11Code(err)
      // CKR_CURVE_NOT_SUPPORTED (0x140, PKCS#11 2.40) is not among pkcs11js's constants.
      const curve = [api.CKR_DOMAIN_PARAMS_INVALID, 0x140, api.CKR_MECHANISM_INVALID, api.CKR_TEMPLATE_INCONSISTENT]
      throw new CairnError(
        curve.includes(code ?? -1) ? KeysErrorCode.HSM_KEY_UNSUPPORTED : KeysErrorCode.HSM_MODULE,
        `HSM token "${this.#opts.token}" refused to ${what} a secp256k1 key: ${errorMessage(err)}`,
        {
          fault: 'caller',
          cause: err,
          hint: 'the token must support secp256k1 EC keys (CKM_EC_KEY_PAIR_GEN, CKM_ECDSA)',
        },
      )
    }
  }
}
