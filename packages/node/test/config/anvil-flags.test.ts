// Anvil's account flags and the client version: `--accounts`, `--balance` (whole ether),
// `--mnemonic`/`-m` set the dev_accounts keys, `--rpc.client-version` (or CAIRN_RPC_CLIENT_VERSION) the
// version web3_clientVersion answers.
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addNodeOptions, nodeConfigInputs } from '../../src/cli/node-options.ts'
import { loadConfig } from '../../src/config/load.ts'

function configFrom(argv: string[], env: Record<string, string> = {}) {
  const cmd = addNodeOptions(new Command('start').exitOverride())
  cmd.parse(argv, { from: 'user' })
  return loadConfig(nodeConfigInputs(cmd.opts(), env))
}

const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'

describe("Anvil's flags", () => {
  it('--accounts, --balance in ether and -m set the dev accounts', () => {
    const c = configFrom(['--dev', '--ephemeral', '--accounts', '3', '--balance', '5', '-m', ABANDON])
    expect(c.dev_accounts).toEqual({
      count: 3,
      balance: 5n * 10n ** 18n,
      mnemonic: ABANDON,
      derivationPath: "m/44'/60'/0'/0",
    })
  })

  it('a balance that is not whole ether is refused by the schema, naming the key', () => {
    expect(() => configFrom(['--dev', '--balance', '1.5'])).toThrow(/dev_accounts\.balance/)
  })

  it('--rpc.client-version, or the environment', () => {
    expect(configFrom(['--dev', '--rpc.client-version', 'anvil/v1.7.1']).rpc.clientVersion).toBe('anvil/v1.7.1')
    expect(configFrom(['--dev'], { CAIRN_RPC_CLIENT_VERSION: 'hardhat/3' }).rpc.clientVersion).toBe('hardhat/3')
    expect(configFrom(['--dev']).rpc.clientVersion).toBeUndefined()
  })
})
