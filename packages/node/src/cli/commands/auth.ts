import { randomBytes } from 'node:crypto'
import { hashApiKey } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import { type Command, Option } from 'commander'
import { NodeErrorCode } from '../../errors.ts'

/** Registers `cairn auth`. */
export function registerAuth(program: Command): void {
  const auth = program.command('auth').description('credentials for the RPC (API keys)')
  auth
    .command('hash-key')
    .description('hash an API key for auth.apiKeys (the key from stdin, or a new random one)')
    .option('--generate', 'make a new random key (the default when stdin is a terminal)')
    .option('--name <name>', 'name of the entry (logs, rate-limit bucket)', 'client')
    .addOption(
      new Option('--role <role>', 'role of the key').choices(['public', 'user', 'operator', 'admin']).default('user'),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ cairn auth hash-key --name alice --role user          a new key and its config entry
  $ printf '%s' "$KEY" | cairn auth hash-key --name ci    the hash of a key you already have

The key is read from stdin, never from a flag (it would stay in the shell history and in ps).
A generated key is printed once: give it to the client; the node keeps only its sha256.`,
    )
    .action(async (opts: { generate?: boolean; name: string; role: string }) => {
      const generate = opts.generate === true || process.stdin.isTTY === true
      const key = generate ? `cairn_${randomBytes(32).toString('base64url')}` : await readKey()
      const hash = hashApiKey(key)
      const lines = [
        ...(generate
          ? [`key:     ${key}`, '         (shown once: hand it to the client, keep it out of the config)']
          : []),
        `keyHash: ${hash}`,
        '',
        '# cairn.toml',
        '[[auth.apiKeys]]',
        `name = ${JSON.stringify(opts.name)}`,
        `keyHash = "${hash}"`,
        `role = "${opts.role}"`,
        '',
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    })
}

/** The key piped on stdin, without its trailing newline. */
async function readKey(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const key = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  if (key.length === 0) {
    throw new CairnError(NodeErrorCode.AUTH_NO_KEY, 'no key on stdin', {
      fault: 'caller',
      hint: 'pipe the key in (printf \'%s\' "$KEY" | cairn auth hash-key) or pass --generate',
    })
  }
  if (/\s/.test(key)) {
    throw new CairnError(NodeErrorCode.AUTH_BAD_KEY, 'the key on stdin contains whitespace', {
      fault: 'caller',
      hint: 'an API key is one token; check what was piped in',
    })
  }
  return key
}
