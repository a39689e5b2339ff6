/**
 * Lints a snippet as if it were the file at `filePath` (repository-relative), with the repository's
 * eslint.config.mjs. Snippets aren't files of the TS project, so they are linted without type information;
 * rules that follow imports (import-x/no-cycle) still read the real files the snippet imports.
 */
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/repo-root';

let eslint: ESLint | undefined;

function linter(): ESLint {
  eslint ??= new ESLint({
    cwd: repoRoot(),
    overrideConfig: {
      files: ['**/*.ts'],
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  });
  return eslint;
}

/** The messages `ruleId` reports as errors on the snippet. */
export async function ruleErrors(ruleId: string, code: string, filePath: string): Promise<string[]> {
  const [result] = await linter().lintText(code, { filePath });
  assert.ok(result);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'snippet parses');
  return result.messages.filter((m) => m.ruleId === ruleId && m.severity === 2).map((m) => m.message);
}
