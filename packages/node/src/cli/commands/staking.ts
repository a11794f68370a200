/**
 * `cairn staking …`: what validators and delegators do, as transactions to the staking system
 * contract (`STAKING_ADDRESS`) through any node's JSON-RPC. Each command simulates first: a rule
 * the contract enforces comes back as its custom error and nothing is sent (exit 2). The same
 * calls work from `cast send` or viem (docs/consensus/staking.md has the ABI).
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  type KeyFile,
  loadOrCreateKey,
  loadOrCreatePqSeed,
  loadPqSeed,
  PQ_NEXT_SEED_FILE,
} from '@cairn/consensus/validator-keys'
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import { mlDsa65Keygen, toChecksumAddress } from '@cairn/crypto'
import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { type Abi, formatEther, type Hex, isAddress, parseEther } from 'viem'
import { NodeErrorCode } from '../../errors.ts'
import { type ChainClient, connect, eventOf, type SendResult, sendContractTx } from '../chain-tx/contract-tx.ts'
import { loadTxSigner, type SignerFlags, signerOptions } from '../tx-signer.ts'

const ABI = staking.abi as Abi
const ADDRESS = STAKING_ADDRESS as Hex

export function address(v: string): Hex {
  if (!isAddress(v, { strict: false })) throw new InvalidArgumentError('expected a 0x-prefixed 20-byte address')
  return v as Hex
}

export function coins(v: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(v)) throw new InvalidArgumentError('expected an amount of coins, e.g. 10 or 0.5')
  return parseEther(v)
}

export function bps(v: string): number {
  const m = /^(\d+(?:\.\d{1,2})?)%$/.exec(v)
  if (m === null) throw new InvalidArgumentError('expected a percentage, e.g. 10%')
  const n = Math.round(Number(m[1]) * 100)
  if (n > 10_000) throw new InvalidArgumentError('at most 100%')
  return n
}

type TxOpts = SignerFlags & { rpc: string }

function txCommand(parent: Command, name: string, description: string): Command {
  return signerOptions(
    parent
      .command(name)
      .description(description)
      .option('--rpc <url>', "a node's JSON-RPC URL", 'http://127.0.0.1:8545'),
  )
}

async function send(opts: TxOpts, functionName: string, args: readonly unknown[], value?: bigint): Promise<SendResult> {
  const account = await loadTxSigner(opts)
  const client = await connect(opts.rpc)
  const r = await sendContractTx(client, account, {
    address: ADDRESS,
    abi: ABI,
    functionName,
    args,
    ...(value !== undefined ? { value } : {}),
  })
  process.stdout.write(
    `${functionName}: ${r.hash} in block ${r.blockNumber} (gas ${r.gasUsed}) from ${account.address}\n`,
  )
  return r
}

/**
 * What a transaction did, from its own receipt's event (`eventName`): `say` turns the event's
 * arguments into the line printed. Amounts and heights come from there, never from state read
 * afterwards, which other transactions may have changed.
 */
async function report(r: Promise<SendResult>, eventName: string, say: (args: Record<string, unknown>) => string) {
  process.stdout.write(`${say(eventOf(await r, eventName))}\n`)
}

const coinsOf = (v: unknown) => `${formatEther(v as bigint)} coins`
const at = (seconds: unknown) => new Date(Number(seconds as bigint) * 1000).toISOString()

async function read<T>(client: ChainClient, functionName: string, args: readonly unknown[] = []): Promise<T> {
  return (await client.public.readContract({ address: ADDRESS, abi: ABI, functionName, args })) as T
}

/** Registers `cairn staking`. */
export function registerStaking(program: Command): void {
  const st = program
    .command('staking')
    .description('validators and delegations in the staking system contract (proof of stake)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ cairn staking validators --rpc http://127.0.0.1:8545\n' +
        '  $ cairn staking create-validator --consensus-address 0x… --self-bond 1000 --commission 10% --private-key-file node-5/keys/validator.key\n' +
        '  $ cairn staking delegate --validator 0x… --amount 50 --dev-account 1\n' +
        '  $ cairn staking unjail --private-key-file node-2/keys/validator.key\n' +
        '  $ cairn staking rotate-key --new-key-file node-2/keys/validator.next.key --private-key-file node-2/keys/validator.key\n' +
        '  $ cairn staking rotate-key --new-pq-seed-file node-2/keys/validator.next.mldsa.seed --private-key-file node-2/keys/validator.key   # ml-dsa-65\n',
    )

  txCommand(st, 'create-validator', 'register a validator: self-bond, commission and its consensus key')
    .requiredOption('--consensus-address <address>', "the address of the validator's consensus (signing) key", address)
    .requiredOption('--self-bond <coins>', 'the stake bonded by the operator', coins)
    .option('--commission <percent>', 'commission on its delegators’ rewards', bps, 1000)
    .option('--max-commission <percent>', 'the commission it may never exceed', bps, 2000)
    .option('--max-change <percent>', 'the most the commission may change in 24 h', bps, 100)
    // A bigint default needs its text for the help (commander would JSON.stringify it: a throw).
    .addOption(
      new Option('--min-self-bond <coins>', 'below this self-bond it is jailed')
        .argParser(coins)
        .default(parseEther('1'), '1'),
    )
    .option('--description <text>', 'moniker, website, contact', '')
    .option(
      '--pq-seed-file <file>',
      'on a hybrid or ml-dsa-65 chain: the validator’s ML-DSA seed (keys/validator.mldsa.seed); its public key is registered (under ml-dsa-65 --consensus-address must be its pqAddress)',
    )
    .action(
      async (
        o: TxOpts & {
          consensusAddress: Hex
          selfBond: bigint
          commission: number
          maxCommission: number
          maxChange: number
          minSelfBond: bigint
          description: string
          pqSeedFile?: string
        },
      ) => {
        const args = [o.consensusAddress, o.commission, o.maxCommission, o.maxChange, o.minSelfBond, o.description]
        // With a seed: the overload that registers the ML-DSA-65 public key (docs/consensus/post-quantum.md).
        if (o.pqSeedFile !== undefined) args.push(bytesToHex(mlDsa65Keygen(loadPqSeed(o.pqSeedFile)).publicKey))
        await report(
          send(o, 'createValidator', args, o.selfBond),
          'ValidatorCreated',
          (e) => `validator ${e.consensusAddr} created: self-bond ${coinsOf(e.selfBond)}, operator ${e.operator}`,
        )
      },
    )
  txCommand(st, 'edit-validator', 'change the commission (bounded per day) or the description')
    .requiredOption('--commission <percent>', 'the new commission', bps)
    .option('--description <text>', 'the new description', '')
    .action(async (o: TxOpts & { commission: number; description: string }) =>
      report(
        send(o, 'editValidator', [o.commission, o.description]),
        'ValidatorEdited',
        (e) => `validator ${e.operator}: commission ${Number(e.commissionBps) / 100}%`,
      ),
    )
  txCommand(st, 'delegate', 'bond coins to a validator')
    .requiredOption('--validator <operator>', "the validator's operator address", address)
    .requiredOption('--amount <coins>', 'how much', coins)
    .action(async (o: TxOpts & { validator: Hex; amount: bigint }) =>
      report(
        send(o, 'delegate', [o.validator], o.amount),
        'Delegated',
        (e) => `delegated ${coinsOf(e.amount)} to ${e.operator} (${e.shares} shares)`,
      ),
    )
  txCommand(st, 'unbond', 'start unbonding a delegation (slashable until it completes)')
    .requiredOption('--validator <operator>', "the validator's operator address", address)
    .requiredOption('--amount <coins>', 'how much', coins)
    .action(async (o: TxOpts & { validator: Hex; amount: bigint }) =>
      report(
        send(o, 'undelegate', [o.validator, o.amount]),
        'Undelegated',
        (e) => `unbonding ${coinsOf(e.amount)} from ${e.operator}: entry ${e.entryId}, complete at ${at(e.completion)}`,
      ),
    )
  txCommand(st, 'redelegate', 'move a delegation to another validator at once')
    .requiredOption('--from <operator>', 'the validator it leaves', address)
    .requiredOption('--to <operator>', 'the validator it joins', address)
    .requiredOption('--amount <coins>', 'how much', coins)
    .action(async (o: TxOpts & { from: Hex; to: Hex; amount: bigint }) =>
      report(
        send(o, 'redelegate', [o.from, o.to, o.amount]),
        'Redelegated',
        (e) =>
          `redelegated ${coinsOf(e.amount)} from ${e.src} to ${e.dst} (slashable for the source until ${at(e.completion)})`,
      ),
    )
  txCommand(st, 'withdraw-unbonded', 'pay out unbonding entries that have completed').action(async (o: TxOpts) =>
    report(send(o, 'withdrawUnbonded', []), 'UnbondedWithdrawn', (e) => `withdrawn ${coinsOf(e.amount)}`),
  )
  txCommand(st, 'withdraw-rewards', "withdraw a delegation's rewards")
    .requiredOption('--validator <operator>', "the validator's operator address", address)
    .action(async (o: TxOpts & { validator: Hex }) =>
      report(
        send(o, 'withdrawRewards', [o.validator]),
        'RewardsWithdrawn',
        (e) => `withdrawn ${coinsOf(e.amount)} of rewards from ${e.operator}`,
      ),
    )
  txCommand(st, 'withdraw-commission', "withdraw the operator's commission").action(async (o: TxOpts) =>
    report(
      send(o, 'withdrawCommission', []),
      'CommissionWithdrawn',
      (e) => `withdrawn ${coinsOf(e.amount)} of commission`,
    ),
  )
  txCommand(st, 'rotate-key', "rotate the validator's consensus key (in the set from the tx's block + 2)")
    .option(
      '--new-key-file <file>',
      'the new consensus key, a hex key file (created, mode 0600, if absent): e.g. DATADIR/keys/validator.next.key (secp256k1 and hybrid chains)',
    )
    .option(
      '--new-pq-seed-file <file>',
      'hybrid and ml-dsa-65 chains: the new ML-DSA seed (created, mode 0600, if absent); default under hybrid: validator.next.mldsa.seed beside --new-key-file; required under ml-dsa-65: DATADIR/keys/validator.next.mldsa.seed',
    )
    .addHelpText(
      'after',
      '\nSigned by the operator (--private-key-file, --key-file or --dev-account); the new key signs the\n' +
        'possession proof. The node must hold the new key beside the old one before the transaction:\n' +
        'put it at DATADIR/keys/validator.next.key and restart the node first (docs/operations/keys.md).\n' +
        'On a hybrid chain the new ML-DSA seed goes beside it (validator.next.mldsa.seed) and its public key\n' +
        'is registered with the rotation; on an ml-dsa-65 chain the seed alone rotates (--new-pq-seed-file),\n' +
        'the new consensus address being its pqAddress.\n' +
        'With a remote signer or an HSM the new key is not a file here: print the arguments on the signer\n' +
        'machine (`cairn signer rotation-proof`, `cairn signer hsm rotation-proof`) and send them with cast.\n',
    )
    .action(async (o: TxOpts & { newKeyFile?: string; newPqSeedFile?: string }) => {
      const account = await loadTxSigner(o)
      const client = await connect(o.rpc)
      // Loaded here only: the other staking commands do not need the consensus package.
      const { pqRotationArgs, rotationProof, SIGNATURE_SCHEME_CODES } = await import('@cairn/consensus/staking')
      // A staking contract older than the post-quantum slice has no signatureScheme(): secp256k1.
      const code = await read<number>(client, 'signatureScheme').catch(() => 0)
      const scheme = SIGNATURE_SCHEME_CODES[code]
      if (scheme === undefined)
        throw usage(`the staking contract names an unknown signature scheme (${code})`, 'upgrade cairn')
      const plan = rotationFiles(scheme, o)
      const made = (path: string) => !existsSync(path)
      const newKey = plan.keyFile === null ? null : { created: made(plan.keyFile), path: plan.keyFile }
      const newSeed = plan.seedFile === null ? null : { created: made(plan.seedFile), path: plan.seedFile }
      const next = newKey === null ? null : loadOrCreateKey(newKey.path, 'new consensus key')
      if (newKey?.created && next) process.stdout.write(`created ${newKey.path} (${next.address})\n`)
      const pqSeed = newSeed === null ? null : loadOrCreatePqSeed(newSeed.path)
      if (newSeed?.created) process.stdout.write(`created ${newSeed.path} (mode 0600)\n`)
      const chainId = BigInt(client.chainId)
      const operator = hexToBytes(account.address)
      const staking = hexToBytes(ADDRESS)
      let args: Hex[]
      let newAddress: Uint8Array
      if (scheme === 'secp256k1') {
        const { newConsensusAddr, proof } = rotationProof(chainId, staking, operator, (next as KeyFile).privateKey)
        args = [bytesToHex(newConsensusAddr), bytesToHex(proof)] as Hex[]
        newAddress = newConsensusAddr
      } else {
        const nextKey =
          scheme === 'hybrid'
            ? { scheme, key: (next as KeyFile).privateKey, pqSeed: pqSeed as Uint8Array }
            : { scheme, pqSeed: pqSeed as Uint8Array }
        const r = pqRotationArgs(chainId, staking, operator, nextKey)
        args = [bytesToHex(r.newConsensusAddr), bytesToHex(r.proof), bytesToHex(r.pqPublicKey)] as Hex[]
        newAddress = r.newConsensusAddr
      }
      const r = await sendContractTx(client, account, {
        address: ADDRESS,
        abi: ABI,
        functionName: 'rotateConsensusKey',
        args,
      })
      // The old key and the height from the receipt's event: a key read before sending, or a
      // height computed here, would be wrong if another rotation landed first.
      const rotated = eventOf(r, 'ConsensusKeyRotated') as { oldConsensusAddr: Hex; effectiveHeight: bigint }
      process.stdout.write(
        `rotateConsensusKey: ${r.hash} in block ${r.blockNumber} (gas ${r.gasUsed}) from ${account.address}\n` +
          `consensus key ${rotated.oldConsensusAddr} signs until block ${rotated.effectiveHeight - 1n}; ${toChecksumAddress(bytesToHex(newAddress))} from block ${rotated.effectiveHeight}\n`,
      )
    })
  txCommand(st, 'unjail', 'return a jailed validator to the candidates (after its jail time)').action(
    async (o: TxOpts) => report(send(o, 'unjail', []), 'Unjailed', (e) => `validator ${e.consensusAddr} unjailed`),
  )

  st.command('validators')
    .description('the active set and every validator it lists')
    .option('--rpc <url>', "a node's JSON-RPC URL", 'http://127.0.0.1:8545')
    .option('--json', 'print JSON')
    .action(async (o: { rpc: string; json?: boolean }) => {
      const client = await connect(o.rpc)
      const [addrs, powers] = await read<[Hex[], bigint[]]>(client, 'activeSet')
      const rows = []
      for (const [i, consensus] of addrs.entries()) {
        const operator = await read<Hex>(client, 'validatorByConsensus', [consensus])
        const v = await read<readonly unknown[]>(client, 'getValidator', [operator])
        rows.push({
          consensus,
          operator,
          power: String(powers[i]),
          tokens: formatEther(v[1] as bigint),
          commission: `${Number(v[3]) / 100}%`,
          jailed: v[4] as boolean,
        })
      }
      if (o.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
      else {
        for (const r of rows) {
          process.stdout.write(
            `${r.consensus} operator ${r.operator} power ${r.power} stake ${r.tokens} commission ${r.commission}\n`,
          )
        }
        process.stdout.write(`${rows.length} active validators\n`)
      }
    })
  st.command('rewards')
    .description("a delegator's pending rewards from one validator")
    .requiredOption('--delegator <address>', 'the delegator', address)
    .requiredOption('--validator <operator>', "the validator's operator address", address)
    .option('--rpc <url>', "a node's JSON-RPC URL", 'http://127.0.0.1:8545')
    .action(async (o: { rpc: string; delegator: Hex; validator: Hex }) => {
      const client = await connect(o.rpc)
      const pending = await read<bigint>(client, 'pendingRewards', [o.delegator, o.validator])
      const bonded = await read<bigint>(client, 'delegationOf', [o.delegator, o.validator])
      process.stdout.write(`delegation ${formatEther(bonded)} pending rewards ${formatEther(pending)}\n`)
    })
  st.command('info')
    .description('the staking parameters and totals')
    .option('--rpc <url>', "a node's JSON-RPC URL", 'http://127.0.0.1:8545')
    .action(async (o: { rpc: string }) => {
      const client = await connect(o.rpc)
      const params = await read<Record<string, unknown>>(client, 'params')
      const bonded = await read<bigint>(client, 'totalBonded')
      const pool = await read<bigint>(client, 'communityPool')
      const out = Object.fromEntries(
        Object.entries(params).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]),
      )
      process.stdout.write(
        `${JSON.stringify({ address: ADDRESS, totalBonded: formatEther(bonded), communityPool: formatEther(pool), params: out }, null, 2)}\n`,
      )
    })
}

/**
 * The files a rotation on a `scheme` chain makes or reads: secp256k1 the new key; hybrid the new key
 * and the new ML-DSA seed (by default `validator.next.mldsa.seed` beside the key); ml-dsa-65 the new
 * seed alone (`validator.key` is the operator's account, not a consensus key).
 * @throws CairnError `TX_REFUSED` for a flag the scheme does not take, or a missing one
 */
export function rotationFiles(
  scheme: 'secp256k1' | 'hybrid' | 'ml-dsa-65',
  o: { newKeyFile?: string | undefined; newPqSeedFile?: string | undefined },
): { keyFile: string | null; seedFile: string | null } {
  if (scheme === 'secp256k1') {
    if (o.newPqSeedFile !== undefined)
      throw usage(
        '--new-pq-seed-file: this chain signs secp256k1, it registers no ML-DSA key',
        'drop --new-pq-seed-file',
      )
    if (o.newKeyFile === undefined)
      throw usage('--new-key-file is required', 'e.g. --new-key-file DATADIR/keys/validator.next.key')
    return { keyFile: o.newKeyFile, seedFile: null }
  }
  if (scheme === 'hybrid') {
    if (o.newKeyFile === undefined)
      throw usage(
        '--new-key-file is required on a hybrid chain (the new secp256k1 key; its ML-DSA seed goes beside it)',
        'e.g. --new-key-file DATADIR/keys/validator.next.key',
      )
    return { keyFile: o.newKeyFile, seedFile: o.newPqSeedFile ?? join(dirname(o.newKeyFile), PQ_NEXT_SEED_FILE) }
  }
  if (o.newKeyFile !== undefined)
    throw usage(
      '--new-key-file: on an ml-dsa-65 chain a rotation is of the ML-DSA seed alone (validator.key is the operator account and stays)',
      'use --new-pq-seed-file DATADIR/keys/validator.next.mldsa.seed',
    )
  if (o.newPqSeedFile === undefined)
    throw usage(
      '--new-pq-seed-file is required on an ml-dsa-65 chain (the new consensus address is its pqAddress)',
      'e.g. --new-pq-seed-file DATADIR/keys/validator.next.mldsa.seed',
    )
  return { keyFile: null, seedFile: o.newPqSeedFile }
}

/** A command-line refusal (bad flags the parsers could not catch). */
export function usage(message: string, hint: string): CairnError {
  return new CairnError(NodeErrorCode.TX_REFUSED, message, { fault: 'caller', hint })
}
