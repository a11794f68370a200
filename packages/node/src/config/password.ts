import { readFileSync } from 'node:fs'
import { CairnError } from '@cairn/utils'
import { NodeErrorCode } from '../errors.ts'

/**
 * A keystore password, never from a flag: from `--password-file`, else the `CAIRN_PASSWORD`
 * environment variable, else a hidden prompt on the terminal.
 */
export async function readPassword(opts: {
  passwordFile?: string
  env: Record<string, string | undefined>
  prompt: string
  confirm?: boolean
}): Promise<string> {
  if (opts.passwordFile) {
    try {
      return readFileSync(opts.passwordFile, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new CairnError(
        NodeErrorCode.PASSWORD_UNREADABLE,
        `cannot read password file ${opts.passwordFile}: ${(err as Error).message}`,
        {
          fault: 'caller',
        },
      )
    }
  }
  const fromEnv = opts.env.CAIRN_PASSWORD
  if (fromEnv !== undefined) return fromEnv
  if (!process.stdin.isTTY) {
    throw new CairnError(NodeErrorCode.PASSWORD_MISSING, 'no password: stdin is not a terminal', {
      fault: 'caller',
      hint: 'pass --password-file FILE or set CAIRN_PASSWORD',
    })
  }
  const first = await promptHidden(opts.prompt)
  if (opts.confirm) {
    const second = await promptHidden('Repeat password: ')
    if (first !== second)
      throw new CairnError(NodeErrorCode.PASSWORD_MISMATCH, 'the passwords do not match', { fault: 'caller' })
  }
  return first
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin
    process.stderr.write(question)
    stdin.setRawMode(true)
    stdin.resume()
    let value = ''
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false)
          stdin.pause()
          stdin.off('data', onData)
          process.stderr.write('\n')
          resolve(value)
          return
        }
        if (ch === '\u0003') process.exit(130)
        if (ch === '\u007f') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}
