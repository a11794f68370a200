import { type Command, Help } from 'commander'
import { newProgram, throwUsageErrors } from './run-program.ts'

/** How a command attaches itself to the `cairn` program (each module under ./commands exports one). */
type Register = (program: Command) => void

/**
 * One `cairn` command as the top-level help lists it, and the module that holds it. The module is
 * imported only when the command runs (or its own help is asked for): `cairn start` loads none of
 * the arbitrage, reserves, staking or devnet code, and `cairn --help` loads no command at all.
 */
export interface CommandEntry {
  name: string
  /** Its line in `cairn --help`: the name, `[options]` and its arguments, as commander writes them. */
  term: string
  description: string
  load: () => Promise<Register>
}

/** Every `cairn` command, in the order `cairn --help` lists them. program.test.ts checks each entry against its module. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'start',
    term: 'start [options]',
    description: 'run a node (JSON-RPC over HTTP and WebSocket on one port)',
    load: async () => (await import('./commands/start.ts')).registerStart,
  },
  {
    name: 'init',
    term: 'init [options]',
    description: 'create a new chain in a datadir from a genesis file',
    load: async () => (await import('./commands/init.ts')).registerInit,
  },
  {
    name: 'account',
    term: 'account',
    description: 'manage keystore accounts (Web3 Secret Storage v3)',
    load: async () => (await import('./commands/account.ts')).registerAccount,
  },
  {
    name: 'db',
    term: 'db',
    description: 'check, back up and restore the chain database',
    load: async () => (await import('./commands/db.ts')).registerDb,
  },
  {
    name: 'export',
    term: 'export [options] <file>',
    description: "write the canonical chain to FILE in geth's RLP chain-file format (the node must be stopped)",
    load: async () => (await import('./commands/export.ts')).registerExport,
  },
  {
    name: 'import',
    term: 'import [options] <file>',
    description:
      "import blocks from an RLP chain file (geth's format), validating and executing each (the node must be stopped)",
    load: async () => (await import('./commands/import.ts')).registerImport,
  },
  {
    name: 'keys',
    term: 'keys',
    description: "manage the node's own keys (identity, validator)",
    load: async () => (await import('./commands/keys.ts')).registerKeys,
  },
  {
    name: 'devnet',
    term: 'devnet',
    description: 'a local BFT network of several validators on this machine',
    load: async () => (await import('./commands/devnet.ts')).registerDevnet,
  },
  {
    name: 'config',
    term: 'config',
    description: 'inspect the configuration',
    load: async () => (await import('./commands/config.ts')).registerConfig,
  },
  {
    name: 'auth',
    term: 'auth',
    description: 'credentials for the RPC (API keys)',
    load: async () => (await import('./commands/auth.ts')).registerAuth,
  },
  {
    name: 'solc',
    term: 'solc [options] [input]',
    description: "solc-js behind the native solc command line's --version and --standard-json (offline forge build)",
    load: async () => (await import('./commands/solc.ts')).registerSolc,
  },
  {
    name: 'reserves',
    term: 'reserves',
    description: 'Proof of liabilities: build Merkle sum trees, issue and verify proofs',
    load: async () => (await import('./commands/reserves.ts')).registerReserves,
  },
  {
    name: 'arb',
    term: 'arb',
    description: 'DEX arbitrage: the engine and its service',
    load: async () => (await import('./commands/arb.ts')).registerArb,
  },
  {
    name: 'staking',
    term: 'staking',
    description: 'validators and delegations in the staking system contract (proof of stake)',
    load: async () => (await import('./commands/staking.ts')).registerStaking,
  },
  {
    name: 'gov',
    term: 'gov',
    description: 'on-chain governance: proposals, votes, tally and execution',
    load: async () => (await import('./commands/gov.ts')).registerGov,
  },
  {
    name: 'signer',
    term: 'signer',
    description: 'the remote signer: validator keys in a process of their own, with double-sign protection',
    load: async () => (await import('./commands/signer.ts')).registerSigner,
  },
  {
    name: 'pow',
    term: 'pow',
    description: 'proof of work: difficulty (ASERT) and compact targets',
    load: async () => (await import('./commands/pow.ts')).registerPow,
  },
  {
    name: 'miner',
    term: 'miner [options]',
    description: "an external proof-of-work miner: eth_getWork / eth_submitWork against a node's JSON-RPC",
    load: async () => (await import('./commands/miner.ts')).registerMiner,
  },
  {
    name: 'chain',
    term: 'chain',
    description: "operate a running node's chain",
    load: async () => (await import('./commands/chain.ts')).registerChain,
  },
  {
    name: 'dag',
    term: 'dag',
    description: "block DAG tools: GhostDAG over a DAG file in Kaspa's test format",
    load: async () => (await import('./commands/dag.ts')).registerDag,
  },
  {
    name: 'gateway',
    term: 'gateway [options]',
    description: 'one JSON-RPC endpoint for a sharded network (routes by sender, address and hash)',
    load: async () => (await import('./commands/gateway.ts')).registerGateway,
  },
  {
    name: 'relayer',
    term: 'relayer [options]',
    description: 'carry cross-shard messages and their receipts between shards',
    load: async () => (await import('./commands/relayer.ts')).registerRelayer,
  },
]

/**
 * The `cairn` command tree, not yet parsed. Each command is a stand-in that takes every argument
 * as it comes (its options, `--help` included); when it runs it imports its module, registers the
 * real command on a program of its own and parses the same arguments with it, so the command's
 * options, its errors and its help are the module's own. `cairn --help` lists the stand-ins with
 * the terms and descriptions of {@link COMMANDS}.
 */
export async function buildProgram(): Promise<Command> {
  const program = newProgram()
  const terms = new Map<Command, string>()
  for (const entry of COMMANDS) {
    const stub = program
      .command(entry.name)
      .description(entry.description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(async (_args: string[], _opts: unknown, cmd: Command) => {
        const real = newProgram()
        ;(await entry.load())(real)
        throwUsageErrors(real)
        // Commander keeps a stand-in's arguments in their order: operands up to the first option
        // (every option is unknown to it), then everything from there.
        await real.parseAsync([entry.name, ...cmd.args], { from: 'user' })
      })
    terms.set(stub, entry.term)
  }
  // `cairn help <command>`: the command's own help (commander's help command would print the stand-in's).
  program.helpCommand(false)
  program
    .command('help')
    .argument('[command]')
    .description('display help for command')
    .action(async (name: string | undefined) => {
      const entry = COMMANDS.find((c) => c.name === name)
      if (name === undefined) return program.help()
      if (!entry) return program.error(`error: unknown command '${name}'`, { code: 'commander.unknownCommand' })
      const real = newProgram()
      ;(await entry.load())(real)
      throwUsageErrors(real)
      await real.parseAsync([entry.name, '--help'], { from: 'user' })
    })
  program.configureHelp({
    subcommandTerm(cmd) {
      return terms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd)
    },
  })
  return program
}

/** The whole tree with every command's module loaded (what the stand-ins stand for): for tests and tools. */
export async function buildFullProgram(): Promise<Command> {
  const program = newProgram()
  for (const entry of COMMANDS) (await entry.load())(program)
  return program
}
