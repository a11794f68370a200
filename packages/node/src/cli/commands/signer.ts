/**
 * `cairn signer`: the remote signer (docs/operations/keys.md) — validator keys in a process of
 * their own, with their own double-sign protection, answering nodes over mutual TLS.
 *
 * - `serve`: holds one or more validator keystores and signs votes and proposals for pinned nodes;
 * - `import-key`: encrypts a node's `DATADIR/keys/validator.key` into a keystore for the signer;
 * - `rotation-proof`: the arguments of `Staking.rotateConsensusKey` for a new key held by the signer
 *   (its keystore, and its ML-DSA seed on a hybrid or ml-dsa-65 chain), for the operator to send;
 * - `certs`: a CA, the signer's certificate and one client certificate per node (openssl);
 * - `fingerprint`: the SHA-256 fingerprint of a certificate (what the signer pins);
 * - `hsm …`: validator keys on a PKCS#11 token (cli/signer-hsm.ts).
 *
 * Each command is registered by a function of its own in `cli/signer/`.
 */
import type { Command } from 'commander'
import { registerCerts, registerFingerprint } from '../signer/certs.ts'
import { registerImportKey, registerRotationProof } from '../signer/key-commands.ts'
import { registerServe } from '../signer/serve.ts'
import { registerSignerHsm } from '../signer-hsm.ts'

export { makeCerts } from '../signer/certs.ts'

/** Registers `cairn signer` and its commands (in the order `cairn signer --help` lists them). */
export function registerSigner(program: Command): void {
  const signer = program
    .command('signer')
    .description('the remote signer: validator keys in a process of their own, with double-sign protection')
  registerServe(signer)
  registerImportKey(signer)
  registerRotationProof(signer)
  registerSignerHsm(signer)
  registerFingerprint(signer)
  registerCerts(signer)
}
