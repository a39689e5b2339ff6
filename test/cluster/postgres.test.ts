import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PG_BIN, Postgres } from '../helpers/postgres';

function processUid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
  return Number(line?.split(/\s+/)[1]);
}

function accepting(port: number): boolean {
  return spawnSync(join(PG_BIN, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '1']).status === 0;
}

describe('test/helpers/postgres: a private PostgreSQL for the cluster tests', function () {
  let pg: Postgres;

  before(async () => {
    pg = await Postgres.start();
    console.log(`      PostgreSQL ready in ${pg.startupMs} ms`);
  });
  after(async () => {
    await pg?.stop();
  });

  it('runs as a non-root user, on 127.0.0.1 and a socket inside its own folder', () => {
    assert.ok(pg.pid, 'postmaster running');
    const uid = processUid(pg.pid);
    assert.notEqual(uid, 0, 'PostgreSQL must not run as root');
    if (process.getuid?.() !== 0) assert.equal(uid, process.getuid!(), 'as a non-root caller, it runs as the caller');
    assert.equal(pg.psql('show listen_addresses'), '127.0.0.1');
    assert.equal(pg.psql('show port'), String(pg.port));
    assert.equal(pg.psql('show unix_socket_directories'), join(pg.dir, 'socket'));
    assert.ok(existsSync(join(pg.dir, 'socket', `.s.PGSQL.${pg.port}`)), 'socket in the folder');
  });

  it('asks every client for its password (scram-sha-256) and refuses a wrong one', () => {
    assert.equal(pg.psql('select string_agg(distinct auth_method, \',\') from pg_hba_file_rules'), 'scram-sha-256');
    assert.throws(() => pg.psql('select 1', { password: `${pg.password}-wrong` }), /password authentication failed for user "temporal"/);
    assert.equal(pg.psql('select 1'), '1');
  });

  it('stop() shuts it down and removes its folder', async () => {
    const other = await Postgres.start();
    const { dir, port } = other;
    const pid = other.pid!;
    assert.notEqual(port, pg.port, 'each instance on its own port');
    assert.ok(accepting(port));
    await other.stop();
    assert.equal(existsSync(dir), false, 'folder removed');
    assert.equal(accepting(port), false, 'port closed');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.equal(pg.psql('select 1'), '1', 'the other instance is untouched');
  });
});
