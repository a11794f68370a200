import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { errorMessage } from '@cairn/utils'
import type { Command } from 'commander'
import { bad, collect, readPem } from './args.ts'

/** Registers `cairn signer fingerprint`: the SHA-256 fingerprint of a certificate (what the signer pins). */
export function registerFingerprint(signer: Command): void {
  signer
    .command('fingerprint')
    .description('the SHA-256 fingerprint of a PEM certificate (what `signer serve --client` pins)')
    .argument('<cert>', 'a PEM certificate')
    .action((cert: string) => {
      const x = new X509Certificate(readPem(cert, 'certificate'))
      process.stdout.write(`${x.fingerprint256}  ${x.subject.replace(/\n/g, ', ')}\n`)
    })
}

/** Registers `cairn signer certs`: a CA, the signer's certificate and one client certificate per node. */
export function registerCerts(signer: Command): void {
  signer
    .command('certs')
    .description('create a CA, the signer certificate and node client certificates with openssl (P-256)')
    .requiredOption('--out <dir>', 'where the files go (ca.pem, signer.pem, NAME.pem, and their -key.pem)')
    .option('--host <name>', "a name or IP the nodes reach the signer by (its certificate's SAN); repeat", collect, [])
    .option('--client <name>', 'a node to make a client certificate for; repeat', collect, [])
    .option('--days <n>', 'validity in days', '825')
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn signer certs --out ./tls --host 10.0.0.5 --client node1 --client node2\n\nKeep ca-key.pem offline: whoever holds it can make certificates (the signer still pins each one).\n',
    )
    .action((o: { out: string; host: string[]; client: string[]; days: string }) => {
      makeCerts(o.out, o.host.length > 0 ? o.host : ['127.0.0.1', 'localhost'], o.client, Number(o.days))
      process.stdout.write(
        `CA:     ${join(o.out, 'ca.pem')}\nSigner: ${join(o.out, 'signer.pem')} (${o.host.join(', ') || '127.0.0.1, localhost'})\n` +
          o.client.map((c) => `Node:   ${join(o.out, `${c}.pem`)}\n`).join(''),
      )
    })
}

/** openssl: a CA, a server certificate for `hosts`, and a client certificate per name. */
export function makeCerts(out: string, hosts: string[], clients: string[], days: number): void {
  const ssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    } catch (err) {
      throw bad(
        `openssl ${args[0]} failed: ${errorMessage(err)}`,
        'install openssl, or make the certificates as docs/operations/keys.md shows',
      )
    }
  }
  for (const name of ['signer', ...clients]) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw bad(`bad certificate name ${name}`, 'letters, digits, . _ -')
  }
  mkdirSync(out, { recursive: true, mode: 0o700 })
  const p = (f: string) => join(out, f)
  const key = (f: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(f))
  if (!existsSync(p('ca.pem'))) {
    key('ca-key.pem')
    ssl(
      'req',
      '-x509',
      '-new',
      '-key',
      p('ca-key.pem'),
      '-subj',
      '/CN=cairn-signer-ca',
      '-days',
      String(days),
      '-out',
      p('ca.pem'),
    )
  }
  const issue = (name: string, ext: string) => {
    key(`${name}-key.pem`)
    ssl('req', '-new', '-key', p(`${name}-key.pem`), '-subj', `/CN=${name}`, '-out', p(`${name}.csr`))
    writeFileSync(p(`${name}.ext`), ext)
    ssl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca-key.pem'),
      '-CAcreateserial',
      '-days',
      String(days),
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    )
    unlinkSync(p(`${name}.csr`))
    unlinkSync(p(`${name}.ext`))
  }
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
  issue('signer', `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`)
  for (const c of clients) issue(c, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n')
}
