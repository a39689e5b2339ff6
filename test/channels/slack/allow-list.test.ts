import assert from 'node:assert/strict';
import { RaterAllowList, SlackUserList, USERGROUP_TTL_MS } from '../../../channels/slack/allow-list';
import type { GatewayLogLevel } from '../../../core/http';

describe('channels/slack/allow-list', () => {
  let now: number;
  let loads: string[];
  let members: string[] | Error;
  let logs: Array<{ level: GatewayLogLevel; msg: string }>;
  const load = async (group: string) => {
    loads.push(group);
    if (members instanceof Error) throw members;
    return members;
  };
  const list = (users: string[], group?: string) => new RaterAllowList(load, new Set(users), group, () => now, (level, msg) => logs.push({ level, msg }));

  beforeEach(() => {
    now = 1_000_000;
    loads = [];
    members = ['U0GROUP01'];
    logs = [];
  });

  it('should let everyone vote when neither users nor a group is set', async () => {
    const open = list([]);
    assert.equal(open.open, true);
    assert.equal(await open.allows('U0ANYONE1'), true);
    assert.deepEqual(loads, []);
  });

  it('should let listed users vote, and nobody else when there is no group', async () => {
    const users = list(['U0ALICE01']);
    assert.equal(users.open, false);
    assert.equal(await users.allows('U0ALICE01'), true);
    assert.equal(await users.allows('U0STRANGE'), false);
    assert.deepEqual(loads, []);
  });

  it('should let group members vote, loading the group once per 5 minutes, concurrent checks sharing a load', async () => {
    const group = list(['U0ALICE01'], 'S0RATERS1');
    assert.deepEqual(await Promise.all([group.allows('U0GROUP01'), group.allows('U0STRANGE'), group.allows('U0ALICE01')]), [true, false, true]);
    assert.deepEqual(loads, ['S0RATERS1']);
    members = ['U0NEWBIE1'];
    now += USERGROUP_TTL_MS - 1;
    assert.equal(await group.allows('U0NEWBIE1'), false, 'still the cached list');
    now += 1;
    assert.equal(await group.allows('U0NEWBIE1'), true, 'refreshed');
    assert.deepEqual(loads, ['S0RATERS1', 'S0RATERS1']);
  });

  it('should keep the last good list when the group cannot be loaded, and let only listed users in without one', async () => {
    const group = list(['U0ALICE01'], 'S0RATERS1');
    assert.equal(await group.allows('U0GROUP01'), true);
    members = new Error('ratelimited');
    now += USERGROUP_TTL_MS;
    assert.equal(await group.allows('U0GROUP01'), true, 'the last good list');
    assert.deepEqual(logs, [{ level: 'error', msg: 'could not load the Slack rater user group' }]);
    const fresh = list(['U0ALICE01'], 'S0RATERS1');
    assert.equal(await fresh.allows('U0GROUP01'), false);
    assert.equal(await fresh.allows('U0ALICE01'), true);
  });

  describe('SlackUserList (who may start, who are ops)', () => {
    const groups: Record<string, string[]> = { S0STARTRS: ['U0STARTER'], S0OPSTEAM: ['U0OPS0001'] };
    const loadGroup = async (group: string) => {
      loads.push(group);
      const found = groups[group];
      if (!found) throw new Error('no_such_subteam');
      return found;
    };
    const userList = (users: string[], usergroups: string[]) => new SlackUserList(loadGroup, new Set(users), usergroups, () => now, (level, msg) => logs.push({ level, msg }), 'starter');

    it('should hold nobody when empty: an unset list of starters or ops lets no one in', async () => {
      const empty = userList([], []);
      assert.equal(empty.empty, true);
      assert.equal(await empty.includes('U0ANYONE1'), false);
    });

    it('should hold listed users and the members of every listed group, each group cached', async () => {
      const both = userList(['U0ALICE01'], ['S0STARTRS', 'S0OPSTEAM']);
      assert.deepEqual(await Promise.all(['U0ALICE01', 'U0STARTER', 'U0OPS0001', 'U0STRANGE'].map((u) => both.includes(u))), [true, true, true, false]);
      assert.equal(await both.includes('U0OPS0001'), true);
      assert.deepEqual([...new Set(loads)].sort(), ['S0OPSTEAM', 'S0STARTRS']);
      assert.equal(loads.filter((g) => g === 'S0OPSTEAM').length, 1, 'loaded once within the TTL');
    });

    it('should fail closed for a group that cannot be loaded, saying what the list is for', async () => {
      const broken = userList([], ['S0MISSING']);
      assert.equal(await broken.includes('U0STARTER'), false);
      assert.deepEqual(logs, [{ level: 'error', msg: 'could not load the Slack starter user group' }]);
    });
  });
});
