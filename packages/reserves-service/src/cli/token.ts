import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { checkHmacSecret, signToken } from '../kernel/auth.ts'
import { openSecrets } from './serve-secrets.ts'

/** Registers `cairn reserves token`: an HS256 JWT for the service, signed with its shared secret. */
export function registerToken(r: Command): void {
  r.command('token')
    .description('Mint an HS256 JWT for the service')
    .requiredOption('--role <role>', 'admin, auditor or user')
    .requiredOption('--sub <sub>', 'subject (the user id for role user)')
    .requiredOption('--secret-file <file>', 'the HS256 secret the service uses (a path, env:NAME or age:FILE#NAME)')
    .option('--ttl <seconds>', 'lifetime', '3600')
    .option('--age-identity-file <file>', 'age identity that opens age: secrets (default: $CAIRN_AGE_IDENTITY_FILE)')
    .action(async (o: { role: string; sub: string; secretFile: string; ttl: string; ageIdentityFile?: string }) => {
      if (!['admin', 'auditor', 'user'].includes(o.role))
        throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `unknown role ${o.role}`, {
          fault: 'caller',
          hint: 'use admin, auditor or user',
        })
      const secret = await openSecrets(o.ageIdentityFile, process.env).read(o.secretFile, '--secret-file')
      checkHmacSecret(secret, `--secret-file ${o.secretFile}`)
      process.stdout.write(`${signToken(secret, { sub: o.sub, role: o.role as 'admin', ttlSeconds: Number(o.ttl) })}\n`)
    })
}
