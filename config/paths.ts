/** Where state lives: the data folder, the ledger and its read endpoint, artifacts and releases. */
import { join, resolve } from 'node:path';
import { type Env, int, optionalText, path, text } from './read';
import type { PreflineConfig } from './types';

export function readDataDir(env: Env, cwd: string): string {
  return path(env, 'PREFLINE_DATA_DIR', cwd);
}

export function readStorage(env: Env, cwd: string, dataDir: string): Pick<PreflineConfig, 'ledger' | 'artifactDir' | 'importRoot' | 'releasesDir'> {
  const importRoot = optionalText(env, 'PREFLINE_IMPORT_ROOT');
  return {
    ledger: {
      path: path(env, 'PREFLINE_LEDGER_PATH', cwd, dataDir),
      readHost: text(env, 'PREFLINE_LEDGER_READ_HOST'),
      readPort: int(env, 'PREFLINE_LEDGER_READ_PORT'),
      endpointFile: join(dataDir, 'ledger-endpoint.json'),
    },
    artifactDir: path(env, 'PREFLINE_ARTIFACT_DIR', cwd, dataDir),
    releasesDir: path(env, 'PREFLINE_RELEASES_DIR', cwd, dataDir),
    ...(importRoot !== undefined ? { importRoot: resolve(cwd, importRoot) } : {}),
  };
}
