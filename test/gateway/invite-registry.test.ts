import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InviteRegistry, InviteStateCache } from '../../gateway/invite-registry';

const NOW = new Date('2026-01-10T09:00:00Z');
const DAY = 86_400_000;

describe('gateway/invite-registry', () => {
  let dir: string;
  let registry: InviteRegistry;
  beforeEach(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'prefline-registry-')), 'invites');
    registry = await InviteRegistry.open(dir);
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('should create invites as private files and list them oldest first', async () => {
    const a = await registry.create({ label: 'Alice@Example.org', campaign: 'spring', expiresAt: new Date(NOW.getTime() + DAY), now: NOW });
    const b = await registry.create({ label: 'Reviewer 7', expiresAt: new Date(NOW.getTime() + 2 * DAY), now: new Date(NOW.getTime() + 1) });
    assert.match(a.id, /^inv_[0-9a-f]{20}$/);
    assert.deepEqual(a, { id: a.id, label: 'alice@example.org', campaign: 'spring', createdAt: NOW.toISOString(), expiresAt: new Date(NOW.getTime() + DAY).toISOString() });
    assert.deepEqual((await registry.list()).map((r) => r.id), [a.id, b.id]);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, `${a.id}.json`)).mode & 0o777, 0o600);
    await assert.rejects(registry.create({ label: 'x', expiresAt: NOW, now: NOW }), RangeError);
    await assert.rejects(registry.create({ label: '\u0007', expiresAt: new Date(NOW.getTime() + DAY), now: NOW }), RangeError);
  });

  it('should tell an invite\'s state: active, expired, revoked, unknown', async () => {
    const a = await registry.create({ label: 'a@x.org', expiresAt: new Date(NOW.getTime() + DAY), now: NOW });
    assert.equal(await registry.state(a.id, NOW), 'active');
    assert.equal(await registry.state(a.id, new Date(NOW.getTime() + DAY)), 'expired');
    assert.equal(await registry.state('inv_ffffffffffffffffffff', NOW), 'unknown');
    assert.equal(await registry.state('../../secrets/session.key', NOW), 'unknown');
    await registry.revoke(a.id, NOW);
    assert.equal(await registry.state(a.id, NOW), 'revoked');
  });

  it('should revoke by id or by label (an address in any case), once, keeping the first time', async () => {
    const a1 = await registry.create({ label: 'bob@x.org', expiresAt: new Date(NOW.getTime() + DAY), now: NOW });
    const a2 = await registry.create({ label: 'bob@x.org', campaign: 'c', expiresAt: new Date(NOW.getTime() + DAY), now: NOW });
    const other = await registry.create({ label: 'carol@x.org', expiresAt: new Date(NOW.getTime() + DAY), now: NOW });
    const revoked = await registry.revoke('BOB@x.org', NOW);
    assert.deepEqual(revoked.map((r) => r.id).sort(), [a1.id, a2.id].sort());
    assert.deepEqual(await registry.revoke(a1.id, new Date(NOW.getTime() + 5)), []); // already revoked
    assert.equal((await registry.get(a1.id))?.revokedAt, NOW.toISOString());
    assert.equal((await registry.get(other.id))?.revokedAt, undefined);
    assert.deepEqual(await registry.revoke('nobody@x.org', NOW), []);
    assert.deepEqual(await registry.revoke('', NOW), []);
  });

  it('should record the last use without touching the invite or its revocation', async () => {
    const a = await registry.create({ label: 'a@x.org', expiresAt: new Date(NOW.getTime() + DAY), now: NOW });
    await registry.markUsed(a.id, new Date(NOW.getTime() + 1000));
    await registry.revoke(a.id, new Date(NOW.getTime() + 2000));
    await registry.markUsed(a.id, new Date(NOW.getTime() + 3000)); // a redemption racing the revocation
    const record = await registry.get(a.id);
    assert.equal(record?.lastUsedAt, new Date(NOW.getTime() + 3000).toISOString());
    assert.equal(record?.revokedAt, new Date(NOW.getTime() + 2000).toISOString());
    assert.deepEqual(readdirSync(dir).sort(), [`${a.id}.json`, `${a.id}.revoked`, `${a.id}.used`]);
  });

  it('should let the gateway\'s cache see a revocation once its time is up', async () => {
    const a = await registry.create({ label: 'a@x.org', expiresAt: new Date(NOW.getTime() + DAY), now: NOW });
    const clock = { t: NOW.getTime() };
    const cache = new InviteStateCache(registry, 2000, () => clock.t);
    assert.equal(await cache.state(a.id), 'active');
    await registry.revoke(a.id, NOW);
    clock.t += 1999;
    assert.equal(await cache.state(a.id), 'active'); // within the cache time
    clock.t += 1;
    assert.equal(await cache.state(a.id), 'revoked');
  });
});
