import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { NodeErrorCode } from '../errors.ts'

export const MANIFEST_FILE = 'manifest.json'

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/)

/** What a backup holds: its chain, its head and every file with its SHA-256. */
export const backupManifestSchema = z
  .object({
    format: z.literal(1),
    createdAt: z.string().datetime(),
    cairnVersion: z.string(),
    chain: z.object({
      chainId: z.string().regex(/^\d+$/),
      genesisHash: hex32,
      headNumber: z.string().regex(/^\d+$/),
      headHash: hex32,
      stateRoot: hex32,
    }),
    entries: z.number().int().nonnegative(),
    files: z.array(
      z.object({
        path: z.string().min(1),
        size: z.number().int().nonnegative(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    ),
  })
  .strict()

export type BackupManifest = z.output<typeof backupManifestSchema>

/** Reads and validates `DIR/manifest.json`. */
export function readManifest(dir: string): BackupManifest {
  const path = join(dir, MANIFEST_FILE)
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new CairnError(NodeErrorCode.BACKUP_MANIFEST_INVALID, `cannot read ${path}: ${(err as Error).message}`, {
      fault: 'caller',
      hint: 'give the directory a `cairn db backup` wrote',
    })
  }
  const parsed = backupManifestSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new CairnError(
      NodeErrorCode.BACKUP_MANIFEST_INVALID,
      `${path}: ${issue?.path.join('.')}: ${issue?.message}`,
      {
        fault: 'caller',
        hint: 'the manifest was edited or damaged; use another backup',
      },
    )
  }
  return parsed.data
}

export function writeManifest(dir: string, manifest: BackupManifest): void {
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 })
}
