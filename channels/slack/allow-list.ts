/**
 * Who may vote on Slack: explicit user ids and/or the members of a user group (`S…`), the group's
 * members cached and refreshed every 5 minutes. With neither set, everyone in the channel may vote.
 * If the group cannot be loaded the last good list is kept; without one, only the listed users may vote.
 */
import { messageOf, type GatewayLog } from '../../core/http';

export const USERGROUP_TTL_MS = 5 * 60_000;

/** The members of a user group (`usergroups.users.list`). */
export type UsergroupMembers = (usergroup: string) => Promise<readonly string[]>;

export class RaterAllowList {
  private members?: { users: Set<string>; at: number };
  private loading?: Promise<Set<string>>;

  constructor(
    private readonly loadMembers: UsergroupMembers,
    private readonly users: ReadonlySet<string>,
    private readonly usergroup: string | undefined,
    private readonly now: () => number,
    private readonly log: GatewayLog,
  ) {}

  /** True when no list is set: everyone may vote. */
  get open(): boolean {
    return this.users.size === 0 && this.usergroup === undefined;
  }

  async allows(userId: string): Promise<boolean> {
    if (this.open || this.users.has(userId)) return true;
    if (this.usergroup === undefined) return false;
    return (await this.groupMembers()).has(userId);
  }

  private async groupMembers(): Promise<Set<string>> {
    if (this.members && this.now() - this.members.at < USERGROUP_TTL_MS) return this.members.users;
    // Concurrent checks share one load.
    this.loading ??= this.loadMembers(this.usergroup!)
      .then((list) => {
        const users = new Set(list);
        this.members = { users, at: this.now() };
        return users;
      })
      .catch((err: unknown) => {
        // Keep using the last good list; without one, nobody outside PREFLINE_SLACK_ALLOWED_USERS may vote.
        this.log('error', 'could not load the Slack rater user group', { usergroup: this.usergroup, error: messageOf(err) });
        return this.members?.users ?? new Set<string>();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
