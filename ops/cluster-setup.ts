/**
 * What a Temporal namespace needs before Prefline's lifecycles can run there: the namespace itself and
 * Prefline's custom search attributes (workflows/search-attributes.ts), with the types Prefline sets.
 * A fresh cluster has neither; without the attributes a lifecycle never gets past its first workflow
 * task (BadSearchAttributes, retried forever). `prefline cluster setup` and `prefline up` create them
 * with these functions; workers and the gateway check them at start, so a missing step is an error
 * naming the command, not a stuck lifecycle.
 */
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { ErrorCode, PreflineError } from '../core/errors';
import { retrying } from '../core/retry';
import { PREFLINE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/** The two services used here; Connection and NativeConnection both have them. */
export type TemporalServices = Pick<Connection, 'workflowService' | 'operatorService'>;

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const SEARCH_ATTRIBUTE_TYPES = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const UNIMPLEMENTED = 12;

export const SETUP_COMMAND = 'prefline cluster setup';

/** The namespace or its search attributes are not what Prefline needs; the message says what to run. */
export class ClusterSetupError extends PreflineError {
  constructor(message: string) {
    super(ErrorCode.ClusterNotSetUp, message);
  }
}

/** `INDEXED_VALUE_TYPE_KEYWORD_LIST` → `KeywordList`, as the temporal CLI spells types. */
export function searchAttributeTypeName(type: number): string {
  const name = IndexedValueType[type] ?? `type ${type}`;
  return name
    .replace(/^INDEXED_VALUE_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

export async function namespaceExists(services: TemporalServices, namespace: string): Promise<boolean> {
  try {
    await services.workflowService.describeNamespace({ namespace });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === NOT_FOUND) return false;
    throw err;
  }
}

/**
 * Registers the namespace with the given retention. Resolves once the frontend serves it (a new
 * namespace reaches the other services' caches only after a few seconds).
 */
export async function createNamespace(services: TemporalServices, namespace: string, retentionMs: number): Promise<void> {
  await services.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(retentionMs) });
  await retrying(() => services.operatorService.listSearchAttributes({ namespace }), { delayMs: () => 250, budgetMs: 30_000, retryable: (err) => (err as { code?: number }).code === NOT_FOUND });
}

export interface SearchAttributeState {
  name: string;
  /** The type Prefline sets. */
  type: keyof typeof SEARCH_ATTRIBUTE_TYPES;
  /** The type the namespace has for this name, if any (`Keyword`, `Text`, …). */
  existing?: string;
}

/** Prefline's search attributes as the namespace has them. */
export async function inspectSearchAttributes(services: TemporalServices, namespace: string): Promise<SearchAttributeState[]> {
  const { customAttributes } = await services.operatorService.listSearchAttributes({ namespace });
  return PREFLINE_SEARCH_ATTRIBUTES.map(({ name, type }) => {
    const existing = customAttributes[name];
    return { name, type, ...(existing !== undefined && existing !== null ? { existing: searchAttributeTypeName(existing) } : {}) };
  });
}

function conflictMessage(conflicts: SearchAttributeState[], namespace: string): string {
  const list = conflicts.map((c) => `${c.name} is ${c.existing}, Prefline sets it as ${c.type}`).join('; ');
  return `search attribute type conflict in namespace ${namespace}: ${list}. Prefline does not change the type of an existing attribute: remove or rename the other attribute, then run ${SETUP_COMMAND} again`;
}

/**
 * Registers the search attributes missing from the namespace (the server keeps the existing type of
 * a name silently, so types are compared here first: a name with another type is a ClusterSetupError
 * and nothing is registered). Returns the names it created.
 */
export async function ensureSearchAttributes(services: TemporalServices, namespace: string): Promise<string[]> {
  const states = await inspectSearchAttributes(services, namespace);
  const conflicts = states.filter((s) => s.existing !== undefined && s.existing !== s.type);
  if (conflicts.length > 0) throw new ClusterSetupError(conflictMessage(conflicts, namespace));
  const missing = states.filter((s) => s.existing === undefined);
  if (missing.length === 0) return [];
  await services.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((s) => [s.name, SEARCH_ATTRIBUTE_TYPES[s.type]])) });
  return missing.map((s) => s.name);
}

/**
 * For workers and the gateway at start: the namespace exists and has Prefline's search attributes with
 * their types, else a ClusterSetupError naming `prefline cluster setup`. Credentials that may not list
 * search attributes (some Temporal Cloud API keys) cannot check: that is a warning, not a failure.
 */
export async function requireClusterSetup(services: TemporalServices, namespace: string, warn: (message: string, fields?: Record<string, unknown>) => void): Promise<void> {
  let states: SearchAttributeState[];
  try {
    states = await inspectSearchAttributes(services, namespace);
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === NOT_FOUND) {
      throw new ClusterSetupError(`namespace ${namespace} does not exist on this Temporal server: run ${SETUP_COMMAND} --create-namespace (or create it where your provider manages namespaces)`);
    }
    if (code === PERMISSION_DENIED || code === UNIMPLEMENTED) {
      warn(`could not check Prefline's search attributes in namespace ${namespace} (${(err as Error).message}); if lifecycles stay in their first workflow task, run ${SETUP_COMMAND}`);
      return;
    }
    throw err;
  }
  const conflicts = states.filter((s) => s.existing !== undefined && s.existing !== s.type);
  if (conflicts.length > 0) throw new ClusterSetupError(conflictMessage(conflicts, namespace));
  const missing = states.filter((s) => s.existing === undefined).map((s) => s.name);
  if (missing.length > 0) {
    throw new ClusterSetupError(`namespace ${namespace} lacks Prefline's search attributes ${missing.join(', ')}: run ${SETUP_COMMAND} once (with the same Temporal settings), then start this process again`);
  }
}
