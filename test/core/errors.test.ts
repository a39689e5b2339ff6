/**
 * The error catalogue as a table: every code → the class that owns it → retryable or not → the HTTP
 * status where one applies. The table is written out here, independently of core/errors.ts, and every
 * error class of the source tree must be in it: a new `extends Error` fails this test.
 *
 * One owner per code; a refinement (SlackRejectedError of ChannelRejectedError) adds fields and keeps
 * its owner's code. HttpError owns the HTTP-only codes and is also how any code with an HTTP status is
 * answered (a vote rejection's code goes out unchanged), always with that code's status.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../activities/failures';
import { UsageError } from '../../cli/args';
import { EmailRejectedError, EmailUnavailableError, UnreadableReplyError } from '../../channels/email/errors';
import { ReplyDeferredError } from '../../channels/email/replies';
import { SlackRateLimitedError, SlackRejectedError, SlackUnavailableError } from '../../channels/slack/errors';
import { SlackVerificationError } from '../../channels/slack/verify';
import { ConfigError } from '../../config';
import { DownloadFailedError, DownloadRefusedError } from '../../connectors/http/errors';
import { WebhookRejectedError, WebhookUnavailableError } from '../../connectors/webhook';
import { EmptyOutputError, InferenceTimeoutError, OutputFetchFailedError, RateLimitedError, errorForStatus } from '../../connectors/inference/remote-errors';
import {
  ChannelRateLimitedError, ChannelRejectedError, ChannelUnavailableError, ConfigMissingError, ERROR_CATALOGUE, ErrorCode, InferenceCanceledError,
  InferenceFailedError, InferenceUnavailableError, InvalidParamsError, PreflineError, UnknownModelError, asCodedError, httpStatusOf, isCodedError,
  type HttpAnswerCode,
} from '../../core/errors';
import { HttpError } from '../../core/http';
import { WebhookSignatureError } from '../../core/webhook-signature';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { ChatRejectedError } from '../../core/conversation-directory';
import { ClusterSetupError } from '../../ops/cluster-setup';
import { TemporalUnreachableError } from '../../ops/temporal-connection';
import { ReleaseError } from '../../releases/errors';
import { ArtifactIntegrityError, ArtifactNotFoundError } from '../../store/ArtifactStore';
import { ImportRefusedError } from '../../store/import-errors';
import { LedgerError } from '../../store/Ledger';
import { INVALID_RELEASE_INPUT_ERROR } from '../../workflows/publish-release';
import { CampaignRefusedError } from '../../core/campaign-directory';
import { ChatRejection, INVALID_CAMPAIGN_INPUT_ERROR, INVALID_CHAT_INPUT_ERROR, INVALID_INPUT_ERROR, VoteRejection } from '../../workflows/messages';
import { repoRoot } from '../helpers/repo-root';

type ErrorClass = abstract new (...args: never[]) => PreflineError;

interface Row {
  code: ErrorCode;
  /** The one class that owns the code (undefined: a failure type only a workflow throws). */
  owner?: ErrorClass;
  /** An instance, made through the owner's real constructor. */
  make?: () => PreflineError;
  retryable: boolean;
  httpStatus?: number;
}

const C = ErrorCode;
const vote = (code: VoteRejectedError['code']) => () => new VoteRejectedError(code, 'refused');
const http = (code: HttpAnswerCode) => () => new HttpError(code, 'answer');
const chat = (code: ChatRejectedError['code']) => () => new ChatRejectedError(code, 'refused');

const TABLE: Row[] = [
  { code: C.ConfigMissing, owner: ConfigMissingError, make: () => new ConfigMissingError('x'), retryable: false },
  { code: C.ConfigInvalid, owner: ConfigError, make: () => new ConfigError('x'), retryable: false },
  { code: C.Usage, owner: UsageError, make: () => new UsageError('x', 'start'), retryable: false },
  { code: C.TemporalUnreachable, owner: TemporalUnreachableError, make: () => new TemporalUnreachableError('x'), retryable: true },
  { code: C.ClusterNotSetUp, owner: ClusterSetupError, make: () => new ClusterSetupError('x'), retryable: false },
  { code: C.UnknownModel, owner: UnknownModelError, make: () => new UnknownModelError('x'), retryable: false },
  { code: C.InvalidParams, owner: InvalidParamsError, make: () => new InvalidParamsError('x'), retryable: false },
  { code: C.InferenceFailed, owner: InferenceFailedError, make: () => new InferenceFailedError('x'), retryable: false },
  { code: C.InferenceUnavailable, owner: InferenceUnavailableError, make: () => new InferenceUnavailableError('x'), retryable: true },
  { code: C.InferenceRateLimited, owner: RateLimitedError, make: () => new RateLimitedError('x', 3), retryable: true },
  { code: C.InferenceCanceled, owner: InferenceCanceledError, make: () => new InferenceCanceledError('x'), retryable: false },
  { code: C.EmptyOutput, owner: EmptyOutputError, make: () => new EmptyOutputError('x'), retryable: false },
  { code: C.OutputFetchFailed, owner: OutputFetchFailedError, make: () => new OutputFetchFailedError('x', 'p1'), retryable: true },
  { code: C.DownloadRefused, owner: DownloadRefusedError, make: () => new DownloadRefusedError('address', 'x'), retryable: false },
  { code: C.DownloadFailed, owner: DownloadFailedError, make: () => new DownloadFailedError('x', true, 503), retryable: true },
  { code: C.ArtifactIntegrity, owner: ArtifactIntegrityError, make: () => new ArtifactIntegrityError('ab', 'size'), retryable: false },
  { code: C.ArtifactNotFound, owner: ArtifactNotFoundError, make: () => new ArtifactNotFoundError('ab'), retryable: false },
  { code: C.ImportRefused, owner: ImportRefusedError, make: () => new ImportRefusedError('x'), retryable: false },
  { code: C.ChannelUnavailable, owner: ChannelUnavailableError, make: () => new ChannelUnavailableError('x'), retryable: true },
  { code: C.ChannelRejected, owner: ChannelRejectedError, make: () => new ChannelRejectedError('x'), retryable: false },
  { code: C.ChannelRateLimited, owner: ChannelRateLimitedError, make: () => new ChannelRateLimitedError('x'), retryable: true },
  { code: C.ReplyDeferred, owner: ReplyDeferredError, make: () => new ReplyDeferredError('x'), retryable: true },
  { code: C.ReplyUnreadable, owner: UnreadableReplyError, make: () => new UnreadableReplyError('x'), retryable: false },
  { code: C.SlackSignatureInvalid, owner: SlackVerificationError, make: () => new SlackVerificationError('signature_mismatch'), retryable: false, httpStatus: 401 },
  { code: C.WebhookRejected, owner: WebhookRejectedError, make: () => new WebhookRejectedError('x', { remoteStatus: 400 }), retryable: false },
  { code: C.WebhookUnavailable, owner: WebhookUnavailableError, make: () => new WebhookUnavailableError('x', { remoteStatus: 503 }), retryable: true },
  { code: C.WebhookSignatureInvalid, owner: WebhookSignatureError, make: () => new WebhookSignatureError('signature_mismatch'), retryable: false, httpStatus: 401 },
  { code: C.LedgerUnavailable, owner: LedgerError, make: () => new LedgerError(C.LedgerUnavailable, 'x'), retryable: true },
  { code: C.LedgerLocked, owner: LedgerError, make: () => new LedgerError(C.LedgerLocked, 'x'), retryable: true },
  { code: C.LedgerQueryRefused, owner: LedgerError, make: () => new LedgerError(C.LedgerQueryRefused, 'x'), retryable: false, httpStatus: 400 },
  { code: C.LedgerQueryTimeout, owner: LedgerError, make: () => new LedgerError(C.LedgerQueryTimeout, 'x'), retryable: false, httpStatus: 400 },
  { code: C.LedgerQueryTooLarge, owner: LedgerError, make: () => new LedgerError(C.LedgerQueryTooLarge, 'x'), retryable: false, httpStatus: 400 },
  { code: C.LedgerQueryMemory, owner: LedgerError, make: () => new LedgerError(C.LedgerQueryMemory, 'x'), retryable: false, httpStatus: 400 },
  { code: C.LedgerBusy, owner: LedgerError, make: () => new LedgerError(C.LedgerBusy, 'x'), retryable: true, httpStatus: 503 },
  { code: C.ReleaseInvalid, owner: ReleaseError, make: () => new ReleaseError(C.ReleaseInvalid, 'x'), retryable: false },
  { code: C.ReleaseConflict, owner: ReleaseError, make: () => new ReleaseError(C.ReleaseConflict, 'x'), retryable: false },
  { code: C.ReleaseCorrupt, owner: ReleaseError, make: () => new ReleaseError(C.ReleaseCorrupt, 'x'), retryable: false },
  { code: C.LifecycleInputInvalid, retryable: false },
  { code: C.ReleaseInputInvalid, retryable: false },
  { code: C.CampaignInputInvalid, retryable: false },
  { code: C.ChatInputInvalid, retryable: false },
  { code: C.VotingClosed, owner: VoteRejectedError, make: vote(C.VotingClosed), retryable: false, httpStatus: 409 },
  { code: C.VotingNotOpen, owner: VoteRejectedError, make: vote(C.VotingNotOpen), retryable: true, httpStatus: 409 },
  { code: C.UnknownCandidate, owner: VoteRejectedError, make: vote(C.UnknownCandidate), retryable: false, httpStatus: 404 },
  { code: C.UnknownLifecycle, owner: VoteRejectedError, make: vote(C.UnknownLifecycle), retryable: false, httpStatus: 404 },
  { code: C.MalformedVote, owner: VoteRejectedError, make: vote(C.MalformedVote), retryable: false, httpStatus: 400 },
  { code: C.WrongChannel, owner: VoteRejectedError, make: vote(C.WrongChannel), retryable: false, httpStatus: 403 },
  { code: C.LifecycleFull, owner: VoteRejectedError, make: vote(C.LifecycleFull), retryable: false, httpStatus: 409 },
  { code: C.RunContinuing, owner: VoteRejectedError, make: vote(C.RunContinuing), retryable: true, httpStatus: 503 },
  { code: C.NotPairwise, owner: VoteRejectedError, make: vote(C.NotPairwise), retryable: false, httpStatus: 409 },
  { code: C.ChoiceNotOffered, owner: VoteRejectedError, make: vote(C.ChoiceNotOffered), retryable: false, httpStatus: 400 },
  { code: C.AnswerFinal, owner: VoteRejectedError, make: vote(C.AnswerFinal), retryable: false, httpStatus: 409 },
  { code: C.NotAssigned, owner: VoteRejectedError, make: vote(C.NotAssigned), retryable: false, httpStatus: 403 },
  { code: C.WrongAnswerForm, owner: VoteRejectedError, make: vote(C.WrongAnswerForm), retryable: false, httpStatus: 409 },
  { code: C.Busy, owner: VoteRejectedError, make: vote(C.Busy), retryable: true, httpStatus: 503 },
  { code: C.UnknownCampaign, owner: CampaignRefusedError, make: () => new CampaignRefusedError(C.UnknownCampaign, 'x'), retryable: false, httpStatus: 404 },
  { code: C.CampaignRefused, owner: HttpError, make: http(C.CampaignRefused), retryable: false, httpStatus: 409 },
  { code: C.BadRequest, owner: HttpError, make: http(C.BadRequest), retryable: false, httpStatus: 400 },
  { code: C.InvalidJson, owner: HttpError, make: http(C.InvalidJson), retryable: false, httpStatus: 400 },
  { code: C.InvalidIdempotencyKey, owner: HttpError, make: http(C.InvalidIdempotencyKey), retryable: false, httpStatus: 400 },
  { code: C.InvalidComment, owner: HttpError, make: http(C.InvalidComment), retryable: false, httpStatus: 400 },
  { code: C.InvalidName, owner: HttpError, make: http(C.InvalidName), retryable: false, httpStatus: 400 },
  { code: C.SessionInvalid, owner: HttpError, make: http(C.SessionInvalid), retryable: false, httpStatus: 401 },
  { code: C.SessionExpired, owner: HttpError, make: http(C.SessionExpired), retryable: false, httpStatus: 401 },
  { code: C.SessionRevoked, owner: HttpError, make: http(C.SessionRevoked), retryable: false, httpStatus: 401 },
  { code: C.AccessDenied, owner: HttpError, make: http(C.AccessDenied), retryable: false, httpStatus: 403 },
  { code: C.ForbiddenOrigin, owner: HttpError, make: http(C.ForbiddenOrigin), retryable: false, httpStatus: 403 },
  { code: C.UnknownHost, owner: HttpError, make: http(C.UnknownHost), retryable: false, httpStatus: 421 },
  { code: C.RateLimited, owner: HttpError, make: http(C.RateLimited), retryable: true, httpStatus: 429 },
  { code: C.NotFound, owner: HttpError, make: http(C.NotFound), retryable: false, httpStatus: 404 },
  { code: C.MethodNotAllowed, owner: HttpError, make: http(C.MethodNotAllowed), retryable: false, httpStatus: 405 },
  { code: C.BodyTooLarge, owner: HttpError, make: http(C.BodyTooLarge), retryable: false, httpStatus: 413 },
  { code: C.UnsupportedMediaType, owner: HttpError, make: http(C.UnsupportedMediaType), retryable: false, httpStatus: 415 },
  { code: C.InternalError, owner: HttpError, make: http(C.InternalError), retryable: true, httpStatus: 500 },
  { code: C.ArtifactUnavailable, owner: HttpError, make: http(C.ArtifactUnavailable), retryable: true, httpStatus: 500 },
  { code: C.UpstreamError, owner: HttpError, make: http(C.UpstreamError), retryable: true, httpStatus: 502 },
  { code: C.InvalidSignIn, owner: HttpError, make: http(C.InvalidSignIn), retryable: false, httpStatus: 400 },
  { code: C.OpenPanelDisabled, owner: HttpError, make: http(C.OpenPanelDisabled), retryable: false, httpStatus: 403 },
  { code: C.InviteInvalid, owner: HttpError, make: http(C.InviteInvalid), retryable: false, httpStatus: 403 },
  { code: C.InviteExpired, owner: HttpError, make: http(C.InviteExpired), retryable: false, httpStatus: 403 },
  { code: C.InviteRevoked, owner: HttpError, make: http(C.InviteRevoked), retryable: false, httpStatus: 403 },
  { code: C.InvitesUnavailable, owner: HttpError, make: http(C.InvitesUnavailable), retryable: false, httpStatus: 503 },
  { code: C.OidcNotConfigured, owner: HttpError, make: http(C.OidcNotConfigured), retryable: false, httpStatus: 404 },
  { code: C.OidcStateMissing, owner: HttpError, make: http(C.OidcStateMissing), retryable: false, httpStatus: 400 },
  { code: C.OidcDenied, owner: HttpError, make: http(C.OidcDenied), retryable: false, httpStatus: 403 },
  { code: C.OidcFailed, owner: HttpError, make: http(C.OidcFailed), retryable: false, httpStatus: 403 },
  { code: C.OidcUnavailable, owner: HttpError, make: http(C.OidcUnavailable), retryable: true, httpStatus: 502 },
  { code: C.UnknownConversation, owner: ChatRejectedError, make: chat(C.UnknownConversation), retryable: false, httpStatus: 404 },
  { code: C.NotConversationOwner, owner: ChatRejectedError, make: chat(C.NotConversationOwner), retryable: false, httpStatus: 403 },
  { code: C.ConversationEnded, owner: ChatRejectedError, make: chat(C.ConversationEnded), retryable: false, httpStatus: 409 },
  { code: C.ConversationNotReopenable, owner: ChatRejectedError, make: chat(C.ConversationNotReopenable), retryable: false, httpStatus: 409 },
  { code: C.ReplyInProgress, owner: ChatRejectedError, make: chat(C.ReplyInProgress), retryable: true, httpStatus: 409 },
  { code: C.UnknownReply, owner: ChatRejectedError, make: chat(C.UnknownReply), retryable: false, httpStatus: 404 },
  { code: C.MalformedChatRequest, owner: ChatRejectedError, make: chat(C.MalformedChatRequest), retryable: false, httpStatus: 400 },
  { code: C.ChatBusy, owner: ChatRejectedError, make: chat(C.ChatBusy), retryable: true, httpStatus: 503 },
  { code: C.TurnLimitReached, owner: ChatRejectedError, make: chat(C.TurnLimitReached), retryable: false, httpStatus: 409 },
  { code: C.ReplyFailed, owner: ChatRejectedError, make: chat(C.ReplyFailed), retryable: true, httpStatus: 502 },
  { code: C.InvalidChatText, owner: HttpError, make: http(C.InvalidChatText), retryable: false, httpStatus: 400 },
  { code: C.UnknownChatModel, owner: HttpError, make: http(C.UnknownChatModel), retryable: false, httpStatus: 400 },
  { code: C.StreamSignatureInvalid, owner: HttpError, make: http(C.StreamSignatureInvalid), retryable: false, httpStatus: 401 },
  { code: C.UnknownStream, owner: HttpError, make: http(C.UnknownStream), retryable: false, httpStatus: 404 },
  { code: C.StartNotAllowed, owner: HttpError, make: http(C.StartNotAllowed), retryable: false, httpStatus: 403 },
  { code: C.ModelNotAllowed, owner: HttpError, make: http(C.ModelNotAllowed), retryable: false, httpStatus: 400 },
  { code: C.InvalidStart, owner: HttpError, make: http(C.InvalidStart), retryable: false, httpStatus: 400 },
  { code: C.BudgetExhausted, owner: HttpError, make: http(C.BudgetExhausted), retryable: true, httpStatus: 429 },
];

/** Classes that refine an owner: more fields, the owner's code. */
const REFINEMENTS: Array<{ cls: ErrorClass; of: ErrorClass; make: () => PreflineError }> = [
  { cls: InferenceTimeoutError, of: InferenceUnavailableError, make: () => new InferenceTimeoutError('x') },
  { cls: EmailUnavailableError, of: ChannelUnavailableError, make: () => new EmailUnavailableError('x') },
  { cls: SlackUnavailableError, of: ChannelUnavailableError, make: () => new SlackUnavailableError('chat.postMessage', 'x') },
  { cls: EmailRejectedError, of: ChannelRejectedError, make: () => new EmailRejectedError('x') },
  { cls: SlackRejectedError, of: ChannelRejectedError, make: () => new SlackRejectedError('chat.postMessage', 'not_in_channel') },
  { cls: SlackRateLimitedError, of: ChannelRateLimitedError, make: () => new SlackRateLimitedError('chat.postMessage', 30) },
];

/** The one class every coded error derives from (asCodedError wraps unknown errors in it). */
const BASE: ErrorClass = PreflineError;

// ---- the source scan ------------------------------------------------------------------------------

const SOURCE_FOLDERS = ['activities', 'bench', 'channels', 'cli', 'config', 'connectors', 'core', 'gateway', 'ops', 'releases', 'store', 'workers', 'workflows'];
const BUILTIN_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']);

/** `class A extends B` of every file, by class name: its parent and where it is declared. */
function classesOf(files: ReadonlyMap<string, string>): Map<string, { parent: string; file: string }> {
  const classes = new Map<string, { parent: string; file: string }>();
  for (const [file, text] of files) {
    for (const match of text.matchAll(/\bclass\s+([A-Za-z_$][\w$]*)(?:\s*<[^>{]*>)?\s+extends\s+([A-Za-z_$][\w$.]*)/g)) {
      classes.set(match[1]!, { parent: match[2]!, file });
    }
  }
  return classes;
}

/** The error classes of `files` (their names), and those that derive from a built-in error without PreflineError. */
function errorClasses(files: ReadonlyMap<string, string>): { coded: Set<string>; uncoded: string[] } {
  const classes = classesOf(files);
  const coded = new Set<string>();
  const uncoded: string[] = [];
  for (const [name, { file }] of classes) {
    let through = false;
    let current = name;
    for (let hops = 0; classes.has(current) && hops < 50; hops++) {
      if (current === 'PreflineError') through = true;
      current = classes.get(current)!.parent;
    }
    if (through) coded.add(name);
    else if (BUILTIN_ERRORS.has(current)) uncoded.push(`${name} (${file}) extends ${current} without PreflineError`);
  }
  return { coded, uncoded };
}

function sourceFiles(): Map<string, string> {
  const root = repoRoot();
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.set(relative(root, path), readFileSync(path, 'utf8'));
    }
  };
  for (const folder of SOURCE_FOLDERS) walk(join(root, folder));
  return files;
}

describe('core/errors: the catalogue', () => {
  it('should have one row per code here, and one catalogue entry per code', () => {
    const codes = Object.values(ErrorCode);
    assert.equal(new Set(codes).size, codes.length, 'no two names share a code');
    assert.deepEqual(TABLE.map((r) => r.code).sort(), [...codes].sort());
    assert.deepEqual(Object.keys(ERROR_CATALOGUE).sort(), [...codes].sort());
  });

  it('should namespace codes: prefline_* for failures, bare snake_case only for what an HTTP client sees', () => {
    for (const code of Object.values(ErrorCode)) {
      assert.match(code, /^[a-z]+(_[a-z]+)*$/, code);
      if (!code.startsWith('prefline_')) assert.ok(ERROR_CATALOGUE[code].httpStatus !== undefined, `${code} is bare but has no HTTP status`);
    }
  });

  for (const row of TABLE) {
    it(`should map ${row.code} → ${row.owner?.name ?? 'a workflow failure'} → ${row.retryable ? 'retryable' : 'not retryable'}${row.httpStatus ? ` → HTTP ${row.httpStatus}` : ''}`, () => {
      const spec = ERROR_CATALOGUE[row.code];
      assert.equal(spec.retryable, row.retryable);
      assert.equal(spec.httpStatus, row.httpStatus);
      if (!row.make || !row.owner) return;
      const err = row.make();
      assert.ok(err instanceof row.owner && err instanceof BASE && err instanceof Error);
      assert.equal(err.code, row.code);
      assert.equal(err.retryable, row.retryable);
      assert.equal(err.name, row.owner.name);
      assert.ok(isCodedError(err));
    });
  }

  it('should give each code one owner class: a refinement keeps its owner\'s code', () => {
    const ownerOf = new Map(TABLE.filter((r) => r.owner).map((r) => [r.code, r.owner!]));
    for (const { cls, of, make } of REFINEMENTS) {
      const err = make();
      assert.ok(err instanceof cls && err instanceof of, cls.name);
      assert.equal(ownerOf.get(err.code), of, `${cls.name} carries ${err.code}, which ${of.name} does not own`);
      assert.equal(err.name, cls.name);
    }
  });

  it('should let an error decide its retryability only where its code is decided per error', () => {
    const perError = Object.values(ErrorCode).filter((code) => ERROR_CATALOGUE[code].perError);
    assert.deepEqual(perError, [C.DownloadFailed]);
    assert.deepEqual([new DownloadFailedError('404', false, 404).retryable, new DownloadFailedError('503', true, 503).retryable], [false, true]);
    // Anywhere else the code decides, whatever the caller passes.
    assert.equal(new PreflineError(C.ChannelRejected, 'x', { retryable: true }).retryable, false);
    assert.equal(new PreflineError(C.ChannelUnavailable, 'x', { retryable: false }).retryable, true);
  });

  it('should answer an HttpError with its code\'s status, for every code that has one (vote rejections included)', () => {
    for (const row of TABLE.filter((r) => r.httpStatus !== undefined)) {
      const code = row.code as HttpAnswerCode;
      assert.equal(httpStatusOf(code), row.httpStatus, code);
      const answer = new HttpError(code, 'answer', { 'X-A': '1' }, { detail: 'd' });
      assert.deepEqual([answer.status, answer.code, answer.message, answer.headers, answer.extra], [row.httpStatus, code, 'answer', { 'X-A': '1' }, { detail: 'd' }]);
    }
  });

  it('should give every vote rejection a rater-facing answer, and the workflow the same codes', () => {
    const rejections = TABLE.filter((r) => r.owner === VoteRejectedError).map((r) => r.code);
    for (const code of rejections) assert.ok(ERROR_CATALOGUE[code].answer, code);
    // The validator's failure types are the catalogue's codes, unchanged.
    assert.deepEqual(Object.values(VoteRejection).sort(), [
      C.AnswerFinal, C.ChoiceNotOffered, C.LifecycleFull, C.MalformedVote, C.NotAssigned, C.NotPairwise, C.RunContinuing, C.UnknownCandidate, C.VotingClosed, C.VotingNotOpen, C.WrongAnswerForm, C.WrongChannel,
    ]);
    for (const type of Object.values(VoteRejection)) assert.ok(rejections.includes(type), type);
    assert.equal(INVALID_INPUT_ERROR, C.LifecycleInputInvalid);
    assert.equal(INVALID_RELEASE_INPUT_ERROR, C.ReleaseInputInvalid);
    assert.equal(INVALID_CAMPAIGN_INPUT_ERROR, C.CampaignInputInvalid);
  });

  it('should give every chat rejection a user-facing answer, and the chat workflow the same codes', () => {
    const rejections = TABLE.filter((r) => r.owner === ChatRejectedError).map((r) => r.code);
    for (const code of rejections) assert.ok(ERROR_CATALOGUE[code].answer, code);
    for (const type of Object.values(ChatRejection)) assert.ok(rejections.includes(type), type);
    assert.equal(INVALID_CHAT_INPUT_ERROR, C.ChatInputInvalid);
  });

  it('should map every coded error to a Temporal failure typed by its code, retryable as its code says', () => {
    for (const make of [...TABLE.flatMap((r) => (r.make ? [r.make] : [])), ...REFINEMENTS.map((r) => r.make)]) {
      const err = make();
      const failure = toActivityFailure(err);
      assert.ok(failure instanceof ApplicationFailure);
      assert.deepEqual([failure.type, failure.nonRetryable, failure.message], [err.code, !err.retryable, err.message], err.name);
    }
  });

  it('should map a remote HTTP status to the owner class of its code, keeping the status', () => {
    const cases: Array<[number, ErrorClass, ErrorCode]> = [
      [401, ConfigMissingError, C.ConfigMissing],
      [403, ConfigMissingError, C.ConfigMissing],
      [404, UnknownModelError, C.UnknownModel],
      [408, InferenceUnavailableError, C.InferenceUnavailable],
      [409, InferenceUnavailableError, C.InferenceUnavailable],
      [422, InvalidParamsError, C.InvalidParams],
      [429, RateLimitedError, C.InferenceRateLimited],
      [503, InferenceUnavailableError, C.InferenceUnavailable],
    ];
    for (const [status, cls, code] of cases) {
      const err = errorForStatus(status, 'detail', { retryAfterSeconds: 4 });
      assert.ok(err instanceof cls, `${status} → ${err.name}`);
      assert.deepEqual([err.code, err.remoteStatus], [code, status]);
    }
    assert.equal(errorForStatus(503, 'x', { retryAfterSeconds: 4 }).retryAfterSeconds, 4);
  });
});

describe('core/errors: asCodedError', () => {
  it('should return a coded error unchanged', () => {
    const err = new ChannelRejectedError('no');
    assert.equal(asCodedError(err), err);
  });

  it('should wrap an unknown error as retryable backend unavailability, keeping message and cause', () => {
    const cause = new TypeError('fetch failed');
    const err = asCodedError(cause);
    assert.ok(err instanceof PreflineError);
    assert.deepEqual([err.code, err.retryable, err.message, err.cause], [C.InferenceUnavailable, true, 'fetch failed', cause]);
  });

  it('should wrap what is not an Error at all by its text', () => {
    assert.deepEqual([asCodedError('boom').message, asCodedError(undefined).message, asCodedError({ code: 'x' }).code], ['boom', 'undefined', C.InferenceUnavailable]);
  });

  it('should give the fallback code its own retryability', () => {
    const err = asCodedError(new Error('refused'), C.ChannelRejected);
    assert.deepEqual([err.code, err.retryable], [C.ChannelRejected, false]);
  });

  it('should not take an error that merely has a code (a Node errno error) for a coded one', () => {
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    assert.equal(isCodedError(enoent), false);
    assert.equal(asCodedError(enoent).code, C.InferenceUnavailable);
  });
});

describe('core/errors: every error class of the tree is catalogued', () => {
  const tableClasses = new Set([BASE, ...TABLE.flatMap((r) => (r.owner ? [r.owner] : [])), ...REFINEMENTS.map((r) => r.cls)].map((c) => c.name));

  it('should find no error class that extends a built-in error without PreflineError', () => {
    assert.deepEqual(errorClasses(sourceFiles()).uncoded, []);
  });

  it('should have every PreflineError class of the source in the table, and nothing else', () => {
    const { coded } = errorClasses(sourceFiles());
    assert.deepEqual([...coded].sort(), [...tableClasses].sort());
  });

  it('should catch a plain `extends Error`, also through an intermediate class, and a coded class missing from the table', () => {
    const files = new Map([
      ['store/x.ts', 'export class Plain extends Error {}\nclass Middle extends TypeError {}\nexport class Deep extends Middle {}\n'],
      ['core/errors.ts', 'export class PreflineError extends Error {}\nexport class Fine<T> extends PreflineError {}\n'],
    ]);
    const { coded, uncoded } = errorClasses(files);
    assert.deepEqual(uncoded.sort(), ['Deep (store/x.ts) extends TypeError without PreflineError', 'Middle (store/x.ts) extends TypeError without PreflineError', 'Plain (store/x.ts) extends Error without PreflineError']);
    assert.deepEqual([...coded].sort(), ['Fine', 'PreflineError']);
    assert.ok(!tableClasses.has('Fine'));
  });
});
