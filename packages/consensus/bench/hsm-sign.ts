// Signatures per second: in-process secp256k1 (signDigest) against a key on a SoftHSM2 token —
// the token's CKM_ECDSA alone (signRaw) and a whole Pkcs11Key signature (plus low s and the
// recovery id, one public-key recovery). A temporary token of its own; SoftHSM2 must be installed.
//   node --import tsx packages/consensus/bench/hsm-sign.ts [N=2000]
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256 } from '@cairn/crypto'
import { Pkcs11Token } from '@cairn/keys'
import { signDigest } from '../src/bft/signing.ts'

const MODULE = '/usr/lib/softhsm/libsofthsm2.so'
const N = Number(process.argv[2] ?? 2000)
const dir = mkdtempSync(join(tmpdir(), 'cairn-hsm-bench-'))
try {
  mkdirSync(join(dir, 'tokens'))
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`)
  process.env.SOFTHSM2_CONF = conf
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', '1234', '--so-pin', '5678'], {
    stdio: 'ignore',
  })
  const raw = keccak256(new TextEncoder().encode('hsm bench key'))
  const token = await Pkcs11Token.open({ module: MODULE, token: 'bench', pin: '1234' })
  token.importKey('bench', raw)
  const key = token.key('bench')
  const digests = Array.from({ length: N }, (_, i) => keccak256(new TextEncoder().encode(`digest ${i}`)))
  const rate = (name: string, fn: (d: Uint8Array) => unknown) => {
    for (const d of digests.slice(0, 100)) fn(d) // warm-up
    const t0 = performance.now()
    for (const d of digests) fn(d)
    const ms = performance.now() - t0
    console.log(
      `${name.padEnd(42)} ${Math.round((N / ms) * 1000)
        .toString()
        .padStart(6)} sig/s  ${((ms / N) * 1000).toFixed(0).padStart(5)} µs/sig`,
    )
  }
  console.log(`N = ${N}, node ${process.version}`)
  rate('in-process secp256k1 (signDigest)', (d) => signDigest(d, raw))
  rate('SoftHSM2 CKM_ECDSA only (signRaw)', (d) => token.signRaw('bench', d))
  rate('SoftHSM2 Pkcs11Key.sign (low s, v)', (d) => key.sign(d))
  token.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
