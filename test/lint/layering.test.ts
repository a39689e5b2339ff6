/**
 * The folder architecture's import rules, enforced by eslint.config.mjs: each rule is shown to fail on
 * a bad import and to pass on a good one, and import-x/no-cycle on a real cycle.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo-root';
import { ruleErrors } from './lint-snippet';

const restricted = (code: string, filePath: string) => ruleErrors('@typescript-eslint/no-restricted-imports', code, filePath);
const cycles = (code: string, filePath: string) => ruleErrors('import-x/no-cycle', code, filePath);

/** `import { name } from 'from'` and a use of it, so the import is a value import. */
const valueImport = (name: string, from: string) => `import { ${name} } from '${from}';\nexport const used = ${name};\n`;
const typeImport = (name: string, from: string) => `import type { ${name} } from '${from}';\nexport type Used = ${name};\n`;

describe('eslint: layering', function () {
  this.timeout(60_000);

  describe('core/ imports no other Prefline folder except the workflows\' contract', () => {
    it('refuses store/, channels/, gateway/, config/, activities/ and the rest, types included', async () => {
      for (const from of ['../store/Ledger', '../channels/types', '../gateway/http-server', '../config', '../activities/types', '../releases/types', '../connectors/inference/types', '../ops/log']) {
        assert.equal((await restricted(valueImport('X', from), 'core/x.ts')).length, 1, `value ${from}`);
        assert.equal((await restricted(typeImport('X', from), 'core/x.ts')).length, 1, `type ${from}`);
      }
    });

    it('refuses workflow modules other than messages.ts and types.ts', async () => {
      assert.equal((await restricted(valueImport('VoteTally', '../workflows/vote-tally'), 'core/x.ts')).length, 1);
      assert.equal((await restricted(valueImport('ratingLifecycle', '../workflows'), 'core/x.ts')).length, 1);
      assert.equal((await restricted(typeImport('LifecyclePlan', '../workflows/input'), 'core/x.ts')).length, 1);
    });

    it('allows the contract, core itself, Node and npm packages', async () => {
      assert.deepEqual(await restricted(valueImport('voteUpdate', '../workflows/messages'), 'core/x.ts'), []);
      assert.deepEqual(await restricted(typeImport('VoteRequest', '../workflows/types'), 'core/x.ts'), []);
      assert.deepEqual(await restricted(valueImport('retrying', './retry'), 'core/x.ts'), []);
      assert.deepEqual(await restricted(valueImport('createHash', 'node:crypto'), 'core/x.ts'), []);
      assert.deepEqual(await restricted(valueImport('Client', '@temporalio/client'), 'core/x.ts'), []);
    });
  });

  describe('channels/ and connectors/ import no gateway/, activities/, store/ or @temporalio/*', () => {
    const cases: Array<[string, string]> = [
      ['channels/email/x.ts', '../../'],
      ['channels/x.ts', '../'],
      ['connectors/inference/replicate/x.ts', '../../../'],
    ];
    it('refuses each of them, types included, from any depth', async () => {
      for (const [file, up] of cases) {
        for (const folder of ['gateway/http-server', 'activities/types', 'store/Ledger']) {
          assert.equal((await restricted(valueImport('X', `${up}${folder}`), file)).length, 1, `${file}: ${folder}`);
          assert.equal((await restricted(typeImport('X', `${up}${folder}`), file)).length, 1, `${file}: type ${folder}`);
        }
        for (const pkg of ['@temporalio/client', '@temporalio/common', '@temporalio/activity']) {
          assert.equal((await restricted(valueImport('X', pkg), file)).length, 1, `${file}: ${pkg}`);
        }
      }
    });

    it('allows core/, the workflows\' contract, their own folder and other packages', async () => {
      for (const [file, up] of cases) {
        assert.deepEqual(await restricted(valueImport('retrying', `${up}core/retry`), file), [], file);
        assert.deepEqual(await restricted(typeImport('VoteRequest', `${up}workflows/types`), file), [], file);
        assert.deepEqual(await restricted(valueImport('WebClient', '@slack/web-api'), file), [], file);
      }
      assert.deepEqual(await restricted(valueImport('EmailState', './state'), 'channels/email/x.ts'), []);
    });
  });

  describe('store/ imports no activities/ or gateway/', () => {
    it('refuses them, types included', async () => {
      assert.equal((await restricted(valueImport('createActivities', '../activities'), 'store/x.ts')).length, 1);
      assert.equal((await restricted(typeImport('CommitRequest', '../activities/types'), 'store/x.ts')).length, 1);
      assert.equal((await restricted(valueImport('startGateway', '../gateway/main'), 'store/x.ts')).length, 1);
    });

    it('allows core/, the workflows\' contract and DuckDB', async () => {
      assert.deepEqual(await restricted(valueImport('ErrorCode', '../core/errors'), 'store/x.ts'), []);
      assert.deepEqual(await restricted(typeImport('ArtifactRef', '../workflows/types'), 'store/x.ts'), []);
      assert.deepEqual(await restricted(valueImport('DuckDBInstance', '@duckdb/node-api'), 'store/x.ts'), []);
    });
  });

  it('leaves the other folders (the gateway wires channels to core; tests reach everywhere) unrestricted', async () => {
    assert.deepEqual(await restricted(valueImport('createWebRoutes', '../channels/web/routes'), 'gateway/x.ts'), []);
    assert.deepEqual(await restricted(valueImport('Ledger', '../../store/Ledger'), 'test/store/x.ts'), []);
  });

  describe('no import cycles', () => {
    // workflows/messages.ts imports core/errors.ts by value, so core/errors.ts must not import it back.
    const precondition = () => assert.match(readFileSync(join(repoRoot(), 'workflows/messages.ts'), 'utf8'), /import \{[^}]*\bErrorCode\b[^}]*\} from '\.\.\/core\/errors'/);

    it('reports a value import that closes a loop with a real file', async () => {
      precondition();
      const errors = await cycles(valueImport('WORKFLOW_TYPE', '../workflows/messages'), 'core/errors.ts');
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /Dependency cycle/);
    });

    it('does not count a type-only import, nor an import that closes no loop', async () => {
      precondition();
      assert.deepEqual(await cycles(typeImport('VoteRejectionType', '../workflows/messages'), 'core/errors.ts'), []);
      assert.deepEqual(await cycles(`import { type VoteRejectionType } from '../workflows/messages';\nexport type Used = VoteRejectionType;\n`, 'core/errors.ts'), []);
      assert.deepEqual(await cycles(valueImport('WORKFLOW_TYPE', '../workflows/messages'), 'core/x.ts'), []);
    });
  });
});
