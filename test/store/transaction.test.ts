import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { withTransaction } from '../../store/transaction';

async function count(c: DuckDBConnection): Promise<number> {
  return Number((await c.runAndReadAll('SELECT count(*) FROM t')).getRows()[0]?.[0]);
}

describe('store/transaction: withTransaction', () => {
  async function withTable(fn: (c: DuckDBConnection) => Promise<void>): Promise<void> {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      await fn(c);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }

  it('should commit what fn wrote and return its result', async () => {
    await withTable(async (c) => {
      const result = await withTransaction(c, async (tx) => {
        await tx.run('INSERT INTO t VALUES (1), (2)');
        return 'done';
      });
      assert.equal(result, 'done');
      assert.equal(await count(c), 2);
    });
  });

  it('should roll back everything fn wrote when it throws, and rethrow that very error', async () => {
    await withTable(async (c) => {
      const failure = new Error('the statistics query failed');
      await assert.rejects(
        withTransaction(c, async (tx) => {
          await tx.run('INSERT INTO t VALUES (1)');
          throw failure;
        }),
        (err) => err === failure,
      );
      assert.equal(await count(c), 0);
    });
  });

  it('should rethrow a failed statement\'s own error (not the COMMIT\'s) and leave the connection usable', async () => {
    await withTable(async (c) => {
      await assert.rejects(
        withTransaction(c, async (tx) => {
          await tx.run('INSERT INTO t VALUES (1)');
          await tx.run('INSERT INTO t VALUES (1)');
        }),
        /Duplicate key/i,
      );
      assert.equal(await count(c), 0);
      // No transaction is left open: the next one starts and commits.
      await withTransaction(c, (tx) => tx.run('INSERT INTO t VALUES (3)'));
      assert.equal(await count(c), 1);
    });
  });
});
