/** The quoting helpers for the values DuckDB cannot bind (COPY targets, read_parquet paths, view names). */
import assert from 'node:assert/strict';
import { quotedIdentifier, quotedString } from '../../releases/sql';
import { withMemoryDatabase } from '../../releases/tools';

describe('SQL quoting (releases/sql)', () => {
  it('should double embedded quotes and refuse NUL and empty names', () => {
    assert.equal(quotedString("it's"), "'it''s'");
    assert.equal(quotedString(''), "''");
    assert.equal(quotedIdentifier('votes'), '"votes"');
    assert.equal(quotedIdentifier('a"b'), '"a""b"');
    assert.throws(() => quotedString('a\0b'));
    assert.throws(() => quotedIdentifier(''));
    assert.throws(() => quotedIdentifier('x\0'));
  });

  it('should round-trip hostile strings and identifiers through DuckDB unchanged', async () => {
    const hostile = ["'; DROP TABLE votes; --", 'a"b', "it's a \"quote\"", 'back\\slash', 'ünïcødé 🗳️', 'new\nline'];
    await withMemoryDatabase(async (c) => {
      for (const value of hostile) {
        const rows = (await c.runAndReadAll(`SELECT ${quotedString(value)} AS v`)).getRows();
        assert.equal(rows[0]?.[0], value);
        await c.run(`CREATE TABLE ${quotedIdentifier(value)} AS SELECT 1 AS one`);
        const names = (await c.runAndReadAll('SELECT table_name FROM duckdb_tables()')).getRows().map((r) => r[0]);
        assert.ok(names.includes(value), value);
        await c.run(`DROP TABLE ${quotedIdentifier(value)}`);
      }
    });
  });
});
