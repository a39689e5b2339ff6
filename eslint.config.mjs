// ESLint flat config (eslint 9). `npx eslint .` is part of scripts/test.sh.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

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
          regex: '^(\\.\\./)+(activities|channels|connectors|store|gateway|config)(/.*)?$',
          allowTypeImports: true,
          message: 'Workflows may only import types from activities/channels/connectors/store/gateway/config (`import type`).',
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
  // Type-aware only where an unawaited promise is a real bug (lost activity/workflow errors).
  {
    files: ['workflows/**/*.ts', 'activities/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  { files: ['workflows/**/*.ts'], rules: workflowImportRules },
  // Tests, stand-ins and the benchmark poke at internals; these rules are noise there.
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
