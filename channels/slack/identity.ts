/**
 * Who the Slack app is and whose workspace counts: the bot's user id and team (`auth.test`, asked once
 * and retried in the background until Slack answers), and the teams whose votes and commands are
 * accepted (the configured ones, else the bot's own). Shared by the inbound (reactions, clicks) and the
 * slash commands, so both refuse the same other workspaces.
 */
import type { WebClient } from '@slack/web-api';
import { messageOf, type GatewayLog } from '../../core/http';
import { exponentialBackoff, retrying, type Clock } from '../../core/retry';

/** `auth.test` retries: 1 s doubling up to 30 s. */
const identityBackoff = exponentialBackoff({ baseMs: 1000, capMs: 30_000 });

export class SlackIdentity {
  private identity?: Promise<{ userId: string; teamId?: string }>;
  private closed = false;

  constructor(
    private readonly web: Pick<WebClient, 'auth'>,
    /** Teams (`T…`, Enterprise Grid orgs `E…`) that count; none given: the bot token's own team. */
    private readonly teamIds: readonly string[] | undefined,
    private readonly clock: Clock,
    private readonly log: GatewayLog,
  ) {}

  /** The bot's user id and team (`auth.test`), asked once and retried until Slack answers. */
  whoAmI(): Promise<{ userId: string; teamId?: string }> {
    this.identity ??= retrying(
      async () => {
        const result = await this.web.auth.test();
        if (!result.user_id) throw new Error('auth.test returned no user_id');
        this.log('info', 'Slack bot identity', { botUserId: result.user_id, team: result.team_id });
        return { userId: result.user_id, ...(result.team_id ? { teamId: result.team_id } : {}) };
      },
      {
        delayMs: identityBackoff,
        stopped: () => this.closed,
        onRetry: (err, attempt) => this.log('error', 'Slack auth.test failed; Slack votes wait until it succeeds', { attempt, error: messageOf(err) }),
      },
      this.clock,
    );
    return this.identity;
  }

  /** The teams whose votes and commands count: the configured ones, else the bot's own (none known: nobody's). */
  async allowedTeams(): Promise<ReadonlySet<string>> {
    const configured = (this.teamIds ?? []).map((t) => t.trim()).filter(Boolean);
    if (configured.length > 0) return new Set(configured);
    const { teamId } = await this.whoAmI();
    return new Set(teamId ? [teamId] : []);
  }

  /** Stops retrying `auth.test` (shutdown). */
  close(): void {
    this.closed = true;
  }
}
