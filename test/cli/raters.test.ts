/** `prefline raters invite|list|revoke`, run as real processes against a data folder, and up's operator link. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorInviteLink } from '../../cli/raters';
import { loadConfig } from '../../config';
import { InviteRegistry } from '../../gateway/invite-registry';
import { verifyInvite } from '../../gateway/invites';
import { runCli } from '../helpers/processes';

describe('cli: prefline raters', function () {
  this.timeout(60_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-raters-'));
    env = { PREFLINE_DATA_DIR: dataDir, PREFLINE_PUBLIC_URL: 'https://rate.example.org' };
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const inviteKey = () => Buffer.from(readFileSync(join(dataDir, 'secrets', 'invite.key'), 'utf8').trim(), 'utf8');
  const registry = () => InviteRegistry.open(join(dataDir, 'invites'));

  it('should print a link whose token names the new invite, signed with the invite key', async () => {
    const out = runCli(['raters', 'invite', 'Alice@Example.org', '--campaign', 'spring', '--expires', '7d'], env);
    assert.equal(out.code, 0, out.stderr);
    const [summary, link] = out.stdout.trim().split('\n');
    assert.match(summary!, /^invited alice@example\.org to campaign spring \(inv_[0-9a-f]{20}\), valid until /);
    assert.match(link!, /^https:\/\/rate\.example\.org\/#\/invite\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const check = verifyInvite(inviteKey(), link!.slice(link!.lastIndexOf('/') + 1), Date.now());
    assert.ok(check.ok);
    const [record] = await (await registry()).list();
    assert.equal(record?.id, check.claim.inviteId);
    assert.deepEqual([record?.label, record?.campaign], ['alice@example.org', 'spring']);
    assert.ok(Math.abs(Date.parse(record!.expiresAt) - Date.now() - 7 * 86_400_000) < 60_000);
    assert.equal(statSync(join(dataDir, 'secrets', 'invite.key')).mode & 0o777, 0o600);
  });

  it('should invite a rater who may generate with --can-generate, and nobody without it', async () => {
    const out = runCli(['raters', 'invite', 'carol@example.org', '--can-generate'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^invited carol@example\.org \(inv_[0-9a-f]{20}\), may generate with the prompt box, valid until /);
    assert.equal(runCli(['raters', 'invite', 'dave@example.org'], env).code, 0);
    const records = await (await registry()).list();
    assert.deepEqual(records.map((r) => [r.label, r.canGenerate ?? false]), [['carol@example.org', true], ['dave@example.org', false]]);
    // A switch with a value is a usage error of the strict parser (exit 2), and nothing is created.
    const refused = runCli(['raters', 'invite', 'erin@example.org', '--can-generate=yes'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--can-generate is a switch and takes no value/);
    assert.equal((await (await registry()).list()).length, 2);
  });

  it('should refuse a bad expiry, an over-long one, a missing label and a control character, creating nothing', async () => {
    // Usage errors exit 2 (cli/command.ts EXIT.usage); `--campaign` without its value is refused by the parser.
    for (const [args, message] of [
      [['--expires', 'soon'], /--expires must be a duration/],
      [['--expires', '400d'], /at most 366 days/],
      [['--campaign='], /--campaign needs a name/],
      [['--campaign'], /--campaign needs a value: --campaign NAME/],
    ] as const) {
      const out = runCli(['raters', 'invite', 'bob@example.org', ...args], env);
      assert.equal(out.code, 2, args.join(' '));
      assert.match(out.stderr, message);
    }
    const unnamed = runCli(['raters', 'invite'], env);
    assert.equal(unnamed.code, 2);
    assert.match(unnamed.stderr, /give an email address or a label/);
    const control = runCli(['raters', 'invite', 'bob\u0007'], env);
    assert.equal(control.code, 2);
    assert.match(control.stderr, /control or formatting characters/);
    assert.deepEqual(await (await registry()).list(), []);
    assert.equal(runCli(['raters'], env).code, 2);
    assert.equal(runCli(['raters', 'grant', 'x'], env).code, 2);
  });

  it('should list invites with their state and last use, and revoke by label or id', async () => {
    assert.match(runCli(['raters', 'list'], env).stdout, /no invites/);
    for (const label of ['carol@example.org', 'carol@example.org', 'Reviewer 7']) assert.equal(runCli(['raters', 'invite', label], env).code, 0);
    const [first, , reviewer] = await (await registry()).list();
    await (await registry()).markUsed(first!.id, new Date('2026-02-01T10:00:00Z'));
    const revoked = runCli(['raters', 'revoke', 'CAROL@example.org'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout.trim().split('\n').length, 2);
    const listing = runCli(['raters', 'list'], env).stdout.trim().split('\n');
    assert.match(listing[0]!, /^id\s+label\s+campaign\s+state\s+created\s+expires\s+last used$/);
    assert.match(listing[1]!, /carol@example\.org\s+revoked .* 2026-02-01T10:00:00\.000Z$/);
    assert.match(listing[3]!, new RegExp(`^${reviewer!.id}\\s+Reviewer 7\\s+active`));
    // Again: nothing left to revoke under that label (a refusal, exit 3); an unknown one says so.
    assert.equal(runCli(['raters', 'revoke', 'carol@example.org'], env).code, 3);
    assert.match(runCli(['raters', 'revoke', 'nobody@example.org'], env).stderr, /no standing invite matches/);
    assert.equal(runCli(['raters', 'revoke', reviewer!.id], env).code, 0);
    assert.equal(await (await registry()).state(reviewer!.id), 'revoked');
  });

  it('should give `prefline up` the same operator link across restarts, and a new one once it is revoked', async () => {
    const config = loadConfig(env);
    const link = await operatorInviteLink(config);
    assert.equal(await operatorInviteLink(config), link);
    assert.equal((await (await registry()).list())[0]?.canGenerate, true, 'whoever runs prefline up may generate');
    await (await registry()).revoke('operator');
    const next = await operatorInviteLink(config);
    assert.notEqual(next, link);
    assert.equal((await (await registry()).list()).length, 2);
  });
});
