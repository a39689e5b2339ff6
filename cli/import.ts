/**
 * `prefline import <folder>`: puts a folder of images and .txt texts into the artifact store, content-
 * addressed (the same bytes are stored once, whatever their name), and prints a reference for each
 * (`sha256:<hex>`) that a lifecycle input's `candidates` or a matchups CSV takes as it is. Each file's
 * kind comes from its bytes and must match its extension; files that cannot be stored (unknown
 * types, over the size cap PREFLINE_DOWNLOAD_MAX_BYTES, symbolic links, bytes that are not what the
 * name says) are refused one by one on stderr while the rest are imported.
 *
 * The model label of a file is `--model`, or else the name of the folder it is in (a folder per model).
 * Hidden files and folders (a leading dot) are skipped.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { PreflineConfig } from '../config';
import { asCodedError } from '../core/errors';
import { ArtifactStore } from '../store/ArtifactStore';
import { checkCandidateFile, readCapped, storeCheckedFile } from '../store/import-files';
import { IMPORT_EXTENSIONS } from '../store/media-type';
import type { CandidateKind } from '../workflows/types';
import { EXIT, type Command } from './command';
import { formatResult } from './query';
import { jsonForTerminal, safeForTerminal } from './terminal';

export interface ImportedFile {
  /** `sha256:<hex>`, as `candidates[].ref` takes it. */
  ref: string;
  /** Relative to the imported folder, `/`-separated. */
  path: string;
  model: string;
  kind: CandidateKind;
  mime: string;
  size: number;
}

export interface RefusedFile {
  path: string;
  reason: string;
}

export interface ImportOptions {
  model?: string;
  recursive?: boolean;
  maxBytes: number;
}

/** The files of `folder` in name order (and of its subfolders with `recursive`), relative paths, hidden ones skipped. */
async function listFiles(folder: string, recursive: boolean, prefix = ''): Promise<Array<{ rel: string; entry: 'file' | 'link' | 'other' }>> {
  const entries = (await fs.readdir(path.join(folder, prefix), { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
  const files: Array<{ rel: string; entry: 'file' | 'link' | 'other' }> = [];
  for (const e of entries) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) {
      if (recursive) files.push(...(await listFiles(folder, recursive, rel)));
    } else {
      files.push({ rel, entry: e.isFile() ? 'file' : e.isSymbolicLink() ? 'link' : 'other' });
    }
  }
  return files;
}

/** Imports every file of `folder` it can; the others are refused with the reason, and the rest go on. */
export async function importFolder(artifacts: ArtifactStore, folder: string, options: ImportOptions): Promise<{ imported: ImportedFile[]; refused: RefusedFile[] }> {
  const root = path.resolve(folder);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) throw new Error(`${folder} is not a folder`);
  const imported: ImportedFile[] = [];
  const refused: RefusedFile[] = [];
  for (const { rel, entry } of await listFiles(root, options.recursive === true)) {
    const extension = path.extname(rel).slice(1).toLowerCase();
    const mime = IMPORT_EXTENSIONS[extension];
    if (entry === 'link') {
      refused.push({ path: rel, reason: 'a symbolic link (not followed; import the file it points to)' });
    } else if (entry === 'other') {
      refused.push({ path: rel, reason: 'not a regular file' });
    } else if (mime === undefined) {
      refused.push({ path: rel, reason: `unknown type ".${extension}" (Prefline rates ${Object.keys(IMPORT_EXTENSIONS).map((e) => `.${e}`).join(', ')})` });
    } else {
      try {
        const bytes = await readCapped(path.join(root, ...rel.split('/')), options.maxBytes, rel);
        const stored = await storeCheckedFile(artifacts, checkCandidateFile(bytes, rel, { mime }));
        const folderName = path.basename(path.dirname(path.join(root, ...rel.split('/'))));
        imported.push({ ref: `sha256:${stored.artifact.sha256}`, path: rel, model: options.model ?? folderName, kind: stored.kind, mime: stored.artifact.mime, size: stored.artifact.size });
      } catch (err) {
        const message = asCodedError(err).message;
        // The coded messages start with the file's name; the listing shows it already.
        refused.push({ path: rel, reason: message.startsWith(`${rel}: `) ? message.slice(rel.length + 2) : message });
      }
    }
  }
  return { imported, refused };
}

/**
 * One imported file as a line of JSON a lifecycle input's `candidates` array takes as an element:
 * `ref`, `model`, `kind`, and where it came from as metadata.
 */
export function candidateLine(file: ImportedFile): string {
  return JSON.stringify({ ref: file.ref, model: file.model, kind: file.kind, metadata: { path: file.path, mime: file.mime, size: file.size } });
}

export function formatImported(files: readonly ImportedFile[], format: string): string {
  if (format === 'jsonl') return files.map((f) => jsonForTerminal(candidateLine(f))).join('\n');
  const columns = ['ref', 'path', 'model', 'kind', 'mime', 'size'];
  return formatResult({ columns, rows: files.map((f) => ({ ...f })), columnTypes: ['VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'BIGINT'] }, format);
}

export const IMPORT_COMMAND: Command = {
  spec: {
    name: 'import',
    args: '<folder>',
    summary: 'put a folder of images and .txt texts into the artifact store and print their references (sha256:…) for lifecycle inputs and matchups CSVs',
    positionals: [1, 1],
    options: {
      model: { type: 'string', value: 'LABEL', description: 'the model label of every file (default: the name of the folder a file is in)' },
      recursive: { type: 'boolean', description: 'import the subfolders too (a folder per model)' },
      format: { type: 'string', value: 'FORMAT', description: 'output format, default table; jsonl prints one brought candidate per line', choices: ['table', 'csv', 'jsonl'] },
    },
    details: [
      'Files that cannot be stored (unknown types, over PREFLINE_DOWNLOAD_MAX_BYTES, links) are listed on stderr; the rest are imported.',
      'exit code 3 when a file was refused, 0 when every file was imported.',
      'example: prefline import ./seed --recursive --format csv',
    ].join('\n'),
  },
  async run(config: PreflineConfig, args) {
    const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
    const artifacts = await ArtifactStore.open(config.artifactDir);
    const { imported, refused } = await importFolder(artifacts, args.positional[0] as string, {
      ...(typeof args.flags.model === 'string' ? { model: args.flags.model } : {}),
      recursive: args.flags.recursive === true,
      maxBytes: config.downloads.maxBytes,
    });
    if (imported.length > 0) process.stdout.write(formatImported(imported, format) + '\n');
    for (const r of refused) process.stderr.write(safeForTerminal(`refused ${r.path}: ${r.reason}`) + '\n');
    process.stderr.write(`${imported.length} imported, ${refused.length} refused\n`);
    return refused.length > 0 ? EXIT.refused : EXIT.ok;
  },
};
