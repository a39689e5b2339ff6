/**
 * Who may do what on Slack, by explicit user ids and/or the members of user groups (`S…`), each group's
 * members cached and refreshed every 5 minutes. If a group cannot be loaded its last good list is kept;
 * without one, only the listed users count (the check fails closed).
 *
 * - `SlackUserList`: a list as it is; an empty one holds nobody (who may start lifecycles, who are ops).
 * - `RaterAllowList`: who may vote; with neither users nor a group set, everyone in the channel may.
 */
import { messageOf, type GatewayLog } from '../../core/http';

export const USERGROUP_TTL_MS = 5 * 60_000;

/** The members of a user group (`usergroups.users.list`). */
export type UsergroupMembers = (usergroup: string) => Promise<readonly string[]>;

export class SlackUserList {
  private readonly groups: Map<string, { members?: { users: Set<string>; at: number }; loading?: Promise<Set<string>> }>;

  constructor(
    private readonly loadMembers: UsergroupMembers,
    private readonly users: ReadonlySet<string>,
    usergroups: readonly string[],
    private readonly now: () => number,
    private readonly log: GatewayLog,
    /** What the list is for, in the log line of a group that cannot be loaded. */
    private readonly purpose = 'rater',
  ) {
    this.groups = new Map(usergroups.map((g) => [g, {}]));
  }

  /** True when neither users nor groups are set. */
  get empty(): boolean {
    return this.users.size === 0 && this.groups.size === 0;
  }

  async includes(userId: string): Promise<boolean> {
    if (this.users.has(userId)) return true;
    for (const group of this.groups.keys()) {
      if ((await this.groupMembers(group)).has(userId)) return true;
    }
    return false;
  }

  private async groupMembers(usergroup: string): Promise<Set<string>> {
    const state = this.groups.get(usergroup)!;
    if (state.members && this.now() - state.members.at < USERGROUP_TTL_MS) return state.members.users;
    // Concurrent checks share one load.
    state.loading ??= this.loadMembers(usergroup)
      .then((list) => {
        const users = new Set(list);
        state.members = { users, at: this.now() };
        return users;
      })
      .catch((err: unknown) => {
        // Keep using the last good list; without one, nobody of the group counts.
        this.log('error', `could not load the Slack ${this.purpose} user group`, { usergroup, error: messageOf(err) });
        return state.members?.users ?? new Set<string>();
      })
      .finally(() => {
        state.loading = undefined;
      });
    return state.loading;
  }
}

export class RaterAllowList {
  private readonly list: SlackUserList;

  constructor(loadMembers: UsergroupMembers, users: ReadonlySet<string>, usergroup: string | undefined, now: () => number, log: GatewayLog) {
    this.list = new SlackUserList(loadMembers, users, usergroup === undefined ? [] : [usergroup], now, log);
  }

  /** True when no list is set: everyone may vote. */
  get open(): boolean {
    return this.list.empty;
  }

  async allows(userId: string): Promise<boolean> {
    return this.open || this.list.includes(userId);
  }
}
