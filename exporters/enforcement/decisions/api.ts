import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Host } from '../../../core/component.js';
import { sendJson } from '../../../core/admin/server.js';
import type { Database, Storage } from '../../../core/storage/storage.js';
import type { Counter } from '../../../core/telemetry/metrics.js';
import type { Decision } from '../../helper/enforcement/decision.js';
import { normalizeAddress } from '../../helper/enforcement/policy.js';
import type { DecisionStore } from '../../helper/enforcement/store.js';
import { matchesFilters, readFilters, toCrowdSec, type CrowdSecDecision } from './crowdsec.js';
import { inAnyCidr, parseCidr } from '../../../core/cidr.js';

/**
 * CrowdSec's expired-decision query reaches back two seconds before the last pull, so a decision
 * that expired while the previous response was being written is not missed.
 */
const DELETED_OVERLAP_MS = 2000;

/**
 * The last pull of one bouncer key: its time, for expired decisions, and the id of the newest
 * decision at that pull. Decision ids only grow, so "made since the last pull" is exact even
 * within one millisecond.
 */
interface LastPull {
  at: number;
  last_id: number;
}

export interface DecisionsApiOptions {
  id: string;
  apiKeys: string[];
  pathPrefix: string;
  storage: Storage;
  store: () => DecisionStore | undefined;
  requests: Counter;
  now?: () => number;
}

/**
 * The bouncer side of CrowdSec's Local API on the admin endpoint, enough for existing bouncers to
 * enforce Watchpost's decisions:
 *
 * - `GET /v1/decisions/stream?startup=true` lists every active decision as `new` and recently
 *   expired ones as `deleted`. Without `startup=true` it lists the decisions made since this
 *   key's last pull, and those that expired from two seconds before it on. Scopes default to `ip,range`, as CrowdSec's stream does.
 * - `GET /v1/decisions?ip=…` (or `scope=…&value=…`, `range=…`) lists the active decisions for a
 *   value, or `null` when there is none, as CrowdSec does.
 * - `HEAD` on both returns 200 without a body.
 *
 * Every request needs one of the configured keys in `X-Api-Key`, else 403 `access forbidden`.
 * Dry-run decisions are never served.
 */
export class DecisionsApi {
  private readonly keyDigests: Buffer[];
  private readonly pulls: Database<LastPull, string>;
  /** The last pull of each key; lmdb keeps a copy for restarts, but its writes become readable only after they commit. */
  private readonly lastPulls = new Map<string, LastPull>();
  private readonly now: () => number;

  constructor(private readonly options: DecisionsApiOptions) {
    this.keyDigests = options.apiKeys.map(digest);
    this.pulls = options.storage.database<LastPull, string>(`bouncer_pulls/${options.id}`);
    for (const { key, value } of this.pulls.getRange()) this.lastPulls.set(key, value);
    this.now = options.now ?? Date.now;
  }

  register(host: Host): void {
    const prefix = this.options.pathPrefix;
    host.admin.route('GET', `${prefix}/v1/decisions/stream`, (request, response, url) => this.stream(request, response, url));
    host.admin.route('HEAD', `${prefix}/v1/decisions/stream`, (request, response) => this.head(request, response));
    host.admin.route('GET', `${prefix}/v1/decisions`, (request, response, url) => this.query(request, response, url));
    host.admin.route('HEAD', `${prefix}/v1/decisions`, (request, response) => this.head(request, response));
  }

  private async stream(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const key = this.authenticate(request, response, 'stream');
    if (!key) return;
    const store = this.requireStore(response);
    if (!store) return;
    const startedAt = this.now();
    const filters = readFilters(url.searchParams, ['ip', 'range']);
    const startup = url.searchParams.get('startup') === 'true';
    const lastPull = this.lastPulls.get(key) ?? { at: 0, last_id: 0 };
    const lastId = store.lastId;
    const fresh = startup ? store.list() : store.createdAfter(lastPull.last_id);
    const gone = store.expiredSince(startup ? 0 : lastPull.at - DELETED_OVERLAP_MS);
    const body = {
      new: this.serve(fresh, filters, startedAt),
      deleted: this.serve(gone, filters, startedAt),
    };
    const pull = { at: startedAt, last_id: lastId };
    this.lastPulls.set(key, pull);
    sendJson(response, 200, body);
    await this.pulls.put(key, pull);
  }

  private query(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (!this.authenticate(request, response, 'query')) return;
    const store = this.requireStore(response);
    if (!store) return;
    const filters = readFilters(url.searchParams, undefined);
    const type = url.searchParams.get('type');
    const matches = store.list().filter((decision) => (type === null || decision.type === type) && valueMatches(decision, url.searchParams));
    const served = this.serve(matches, filters, this.now());
    // CrowdSec's Local API returns `null` rather than `[]` when no decision matches, and bouncers expect that.
    sendJson(response, 200, served.length > 0 ? served : null);
  }

  private head(request: IncomingMessage, response: ServerResponse): void {
    if (!this.authenticate(request, response, 'head')) return;
    response.writeHead(200).end();
  }

  private serve(decisions: Decision[], filters: ReturnType<typeof readFilters>, now: number): CrowdSecDecision[] {
    return decisions.filter((decision) => !decision.dry_run && matchesFilters(decision, filters)).map((decision) => toCrowdSec(decision, now));
  }

  /** Returns the hex digest of the request's key when it is one of the configured keys, else sends 403. */
  private authenticate(request: IncomingMessage, response: ServerResponse, route: string): string | undefined {
    const header = request.headers['x-api-key'];
    const presented = Array.isArray(header) ? header[0] : header;
    const presentedDigest = presented ? digest(presented) : undefined;
    // Comparing fixed-length digests in constant time reveals nothing about how close a guessed key was.
    const known = presentedDigest !== undefined && this.keyDigests.some((candidate) => timingSafeEqual(candidate, presentedDigest));
    this.options.requests.add({ exporter: this.options.id, route, outcome: known ? 'ok' : 'forbidden' });
    if (!known) {
      sendJson(response, 403, { message: 'access forbidden' });
      return undefined;
    }
    return (presentedDigest as Buffer).toString('hex');
  }

  private requireStore(response: ServerResponse): DecisionStore | undefined {
    const store = this.options.store();
    if (!store) sendJson(response, 503, { message: 'decisions are not loaded yet' });
    return store;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Applies the `ip`, `range`, `scope` and `value` query parameters of `GET /v1/decisions`. */
function valueMatches(decision: Decision, query: URLSearchParams): boolean {
  const ip = query.get('ip');
  if (ip !== null) return decision.scope === 'ip' && decision.value === (normalizeAddress(ip) ?? ip);
  const range = query.get('range');
  if (range !== null) {
    const cidr = parseCidr(range);
    return decision.scope === 'ip' && cidr !== undefined && inAnyCidr([cidr], decision.value);
  }
  const scope = query.get('scope');
  if (scope !== null && !scopeMatches(decision, scope)) return false;
  const value = query.get('value');
  return value === null || decision.value === value;
}

function scopeMatches(decision: Decision, scope: string): boolean {
  const names: Record<Decision['scope'], string> = { ip: 'ip', identity: 'user', api_key: 'apikey' };
  return names[decision.scope] === scope.toLowerCase();
}
