// The backup file: a ustar archive of three entries —
//   manifest.json         what was backed up (manifest.ts), with the data's size and SHA-256
//   manifest.json.sha256  the SHA-256 of manifest.json (a damaged manifest is refused, not misread)
//   pgdata.tar.gz         the PGlite data directory, gzip'd tar
// Everything is checked before a restore writes a byte: the tar headers, both checksums, gzip's CRC.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { createGzip, type Gzip, gunzip } from 'node:zlib'
import { invalidArchive } from './errors.ts'
import { BACKUP_FORMAT, type BackupManifest } from './manifest.ts'
import { readTar, TAR_END, type TarEntry, tarParts, writeTar } from './tar.ts'

const DATA = 'pgdata.tar.gz'
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/**
 * The data part, compressed as the files arrive: only the compressed bytes are kept, and a
 * writer waits while more than 16 MiB wait to be compressed (level 1: tree hashes do not compress,
 * and the database is held while the files are read).
 */
export class DataWriter {
  private readonly gz: Gzip = createGzip({ level: 1 })
  private readonly out: Buffer[] = []
  private readonly done: Promise<void>
  files = 0

  constructor(private readonly mtime: number) {
    this.gz.on('data', (c: Buffer) => this.out.push(c))
    this.done = once(this.gz, 'end').then(() => {})
  }

  async add(e: TarEntry): Promise<void> {
    if (!e.dir) this.files++
    for (const part of tarParts(e, this.mtime)) this.gz.write(part)
    if (this.gz.writableLength > 16 << 20) await once(this.gz, 'drain')
  }

  async finish(): Promise<Buffer> {
    this.gz.end(TAR_END)
    await this.done
    return Buffer.concat(this.out)
  }
}

/** Packs the data directory's entries and the manifest into one backup file. */
export async function packBackup(
  files: readonly TarEntry[],
  about: Omit<BackupManifest, 'format' | 'data'>,
): Promise<{ archive: Buffer; manifest: BackupManifest; sha256: string }> {
  const w = new DataWriter(Math.floor(Date.parse(about.createdAt) / 1000))
  for (const f of files) await w.add(f)
  return packManifest(await w.finish(), w.files, about)
}

/** The backup file of compressed data (a {@link DataWriter}'s) and the manifest. */
export function packManifest(
  data: Buffer,
  files: number,
  about: Omit<BackupManifest, 'format' | 'data'>,
): { archive: Buffer; manifest: BackupManifest; sha256: string } {
  const mtime = Math.floor(Date.parse(about.createdAt) / 1000)
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    ...about,
    data: { name: DATA, bytes: data.byteLength, sha256: sha256(data), files },
  }
  const json = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)
  const archive = writeTar(
    [
      { path: 'manifest.json', dir: false, mode: 0o644, data: json },
      { path: 'manifest.json.sha256', dir: false, mode: 0o644, data: Buffer.from(`${sha256(json)}  manifest.json\n`) },
      { path: DATA, dir: false, mode: 0o600, data },
    ],
    mtime,
  )
  return { archive, manifest, sha256: sha256(archive) }
}

/** Checks a backup file whole and returns its manifest and the data directory's entries; throws ARCHIVE_INVALID. */
export async function unpackBackup(
  file: Uint8Array,
  what = 'the backup',
): Promise<{ manifest: BackupManifest; files: TarEntry[] }> {
  const outer = new Map(readTar(file, what).map((e) => [e.path, e]))
  const json = outer.get('manifest.json')
  const sum = outer.get('manifest.json.sha256')
  const data = outer.get(DATA)
  if (!json || !sum || !data)
    throw invalidArchive(`${what} is not a reserves backup (it needs manifest.json, manifest.json.sha256 and ${DATA})`)
  const wantSum = Buffer.from(sum.data).toString('utf8').split(/\s/)[0]
  if (wantSum !== sha256(json.data))
    throw invalidArchive(`${what} is damaged: manifest.json does not match its SHA-256`)
  let manifest: BackupManifest
  try {
    manifest = JSON.parse(Buffer.from(json.data).toString('utf8')) as BackupManifest
  } catch {
    throw invalidArchive(`${what} is damaged: manifest.json is not JSON`)
  }
  if (manifest.format !== BACKUP_FORMAT)
    throw invalidArchive(
      `${what} has format ${JSON.stringify(manifest.format)}; this cairn reads ${BACKUP_FORMAT}`,
      'restore it with the cairn version that took it',
    )
  if (data.data.byteLength !== manifest.data.bytes || sha256(data.data) !== manifest.data.sha256)
    throw invalidArchive(
      `${what} is damaged: ${DATA} has SHA-256 ${sha256(data.data)} (${data.data.byteLength} bytes), the manifest says ${manifest.data.sha256} (${manifest.data.bytes} bytes)`,
    )
  let tar: Buffer
  try {
    tar = await promisify(gunzip)(data.data)
  } catch (err) {
    throw invalidArchive(`${what} is damaged: ${DATA} does not decompress (${(err as Error).message})`)
  }
  const files = readTar(tar, `${what}'s ${DATA}`)
  for (const f of files)
    if (f.path.startsWith('/') || f.path.split('/').includes('..'))
      throw invalidArchive(`${what} holds an unsafe path ${JSON.stringify(f.path)}`)
  const count = files.filter((f) => !f.dir).length
  if (count !== manifest.data.files)
    throw invalidArchive(`${what} holds ${count} files, the manifest says ${manifest.data.files}`)
  return { manifest, files }
}
