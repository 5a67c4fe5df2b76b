// Per-test fault injection for the emulator: rules match requests by method and path (a string
// prefix or a RegExp) and fire a limited number of times. The emulator asks `take` once per request
// before routing it.

/** Which requests a rule applies to; `method` omitted matches every method. */
export interface FaultMatch {
  method?: string;
  path: string | RegExp;
}

/** What a matching request suffers. */
export type FaultAction =
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'reset' }
  | { kind: 'html500' }
  | { kind: 'dropResponse' }
  | { kind: 'cutBody'; afterBytes: number }
  | { kind: 'stallBody'; afterBytes: number };

interface FaultRule {
  match: FaultMatch;
  action: FaultAction;
  remaining: number;
}

/** What applies to one request: extra latency and at most one failing action. */
export interface FaultDecision {
  latencyMs: number;
  action?: Exclude<FaultAction, { kind: 'latency' }>;
}

function matches(match: FaultMatch, method: string, path: string): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  return typeof match.path === 'string' ? path.startsWith(match.path) : match.path.test(path);
}

export class FaultController {
  private rules: FaultRule[] = [];

  /** Delays matching requests by `ms` (for `times` requests, default all). */
  latency(match: FaultMatch, ms: number, times = Infinity): void {
    this.add(match, { kind: 'latency', ms }, times);
  }

  /** Answers `times` matching requests with `status` and the service's body for it (429/503 carry `Retry-After`). */
  status(match: FaultMatch, status: number, options: { times?: number; retryAfterSeconds?: number } = {}): void {
    this.add(match, { kind: 'status', status, retryAfterSeconds: options.retryAfterSeconds ?? 1 }, options.times ?? 1);
  }

  /** Destroys the socket of `times` matching requests before anything happens. */
  reset(match: FaultMatch, times = 1): void {
    this.add(match, { kind: 'reset' }, times);
  }

  /** Answers `times` matching requests with a 500 and an HTML body, as the gateway does. */
  html500(match: FaultMatch, times = 1): void {
    this.add(match, { kind: 'html500' }, times);
  }

  /** Performs `times` matching requests but destroys the socket instead of answering. */
  dropResponse(match: FaultMatch, times = 1): void {
    this.add(match, { kind: 'dropResponse' }, times);
  }

  /**
   * Answers `times` matching requests normally, with the full Content-Length, but destroys the
   * socket after `afterBytes` of the body: a connection dropped mid-download.
   */
  cutBody(match: FaultMatch, afterBytes: number, times = 1): void {
    this.add(match, { kind: 'cutBody', afterBytes }, times);
  }

  /**
   * Answers `times` matching requests with the full Content-Length but sends only `afterBytes` of
   * the body, then nothing, holding the connection open until the client gives up: a download
   * that stalls part-way, for tests that interrupt one while it is under way.
   */
  stallBody(match: FaultMatch, afterBytes: number, times = 1): void {
    this.add(match, { kind: 'stallBody', afterBytes }, times);
  }

  add(match: FaultMatch, action: FaultAction, times: number): void {
    this.rules.push({ match, action, remaining: times });
  }

  clear(): void {
    this.rules = [];
  }

  /** Consumes the rules that match this request. */
  take(method: string, path: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || !matches(rule.match, method, path)) continue;
      if (rule.action.kind === 'latency') {
        decision.latencyMs += rule.action.ms;
        rule.remaining -= 1;
      } else if (!decision.action) {
        decision.action = rule.action;
        rule.remaining -= 1;
      }
    }
    this.rules = this.rules.filter((rule) => rule.remaining > 0);
    return decision;
  }
}
