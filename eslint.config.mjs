// ESLint flat config (eslint 9). `npx eslint .` is part of scripts/test.sh.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// ---- layering (the folder architecture in README.md): who may import whom -----------------------
// `(\.\./)+folder` is a top-level folder reached from any depth; the rules apply to production code,
// not to test/ and bench/, which reach into every layer on purpose.

/** Every top-level folder of Prefline's code. */
const FOLDERS = ['activities', 'bench', 'channels', 'cli', 'config', 'connectors', 'core', 'gateway', 'ops', 'releases', 'store', 'test', 'workers', 'workflows'];
/** Imports of these top-level folders, from any depth. */
const folders = (names) => `^(\\.\\./)+(${names.join('|')})(/.*)?$`;
/**
 * Pure core modules workflow code may import by value: no I/O, no Node built-ins, nothing but
 * computation (the sandbox bundles them; test/workflows/bundle.test.ts proves it builds).
 */
const PURE_CORE_FOR_WORKFLOWS = ['duration', 'errors', 'text-hygiene'];

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, and nothing that
// pulls in I/O (activities, connectors, stores, the gateway, config, DuckDB, client/worker SDKs).
// Type-only imports are erased at compile time, so they stay allowed where that makes sense
// (e.g. `import type { LedgerActivities } from '../activities/types'` for proxyActivities).
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));
const workflowImportRules = {
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      paths: nodeBuiltins.map((name) => ({
        name,
        message: 'Node built-ins are not available in workflow code; do this in an activity.',
      })),
      patterns: [
        {
          group: ['node:*'],
          message: 'Node built-ins are not available in workflow code; do this in an activity.',
        },
        {
          regex: folders(FOLDERS.filter((f) => f !== 'workflows' && f !== 'core')),
          allowTypeImports: true,
          message: 'Workflows may only import types from outside workflows/ (`import type`).',
        },
        {
          regex: `^(\\.\\./)+core(/(?!(${PURE_CORE_FOR_WORKFLOWS.join('|')})$).*)?$`,
          allowTypeImports: true,
          message: `Workflows may import by value only the pure core modules ${PURE_CORE_FOR_WORKFLOWS.map((m) => `core/${m}`).join(', ')}; anything else from core/ as \`import type\`.`,
        },
        {
          regex: '^(@duckdb/.*|@temporalio/(client|worker|activity)(/.*)?)$',
          allowTypeImports: true,
          message: 'Not usable inside the workflow sandbox; use @temporalio/workflow, or call an activity.',
        },
      ],
    },
  ],
};

/** One folder's forbidden imports, types included (a type import still couples the layers). */
function layerRule(patterns) {
  return { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] };
}

const coreImportRules = layerRule([
  {
    regex: folders(FOLDERS.filter((f) => f !== 'workflows' && f !== 'core')),
    message: 'core/ imports no other Prefline folder except the workflows\' contract (workflows/messages.ts, workflows/types.ts).',
  },
  {
    regex: '^(\\.\\./)+workflows(/(?!(messages|types)$).*)?$',
    message: 'core/ may import only the workflows\' contract: workflows/messages.ts and workflows/types.ts.',
  },
]);

const channelAndConnectorImportRules = layerRule([
  {
    regex: folders(['gateway', 'activities', 'store']),
    message: 'channels/ and connectors/ are plain TypeScript: they import no gateway/, activities/ or store/ (the gateway and activities import them).',
  },
  {
    group: ['@temporalio/*'],
    message: 'channels/ and connectors/ import no Temporal SDK: activities adapt them to Temporal, core/ ports reach lifecycles.',
  },
]);

const storeImportRules = layerRule([
  {
    regex: folders(['activities', 'gateway']),
    message: 'store/ imports no activities/ or gateway/: they use the store, not the other way round.',
  },
]);

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.prefline/', 'gateway/static/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', __dirname: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      // Reading a package's version (`require('x/package.json')`) is the one require() we accept.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['/package\\.json$'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // No import cycles. Type-only imports (`import type`, or every specifier `type`) are erased at
  // compile time and are not followed; a value import that closes a loop is reported.
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // Type-aware only where an unawaited promise is a real bug (lost activity/workflow errors).
  {
    files: ['workflows/**/*.ts', 'activities/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  { files: ['workflows/**/*.ts'], rules: workflowImportRules },
  { files: ['core/**/*.ts'], rules: coreImportRules },
  { files: ['channels/**/*.ts', 'connectors/**/*.ts'], rules: channelAndConnectorImportRules },
  { files: ['store/**/*.ts'], rules: storeImportRules },
  // Tests, stand-ins and the benchmark poke at internals; these rules are noise there.
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
