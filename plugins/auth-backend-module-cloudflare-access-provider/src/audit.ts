/** The audit trail of sign-ins and refusals: one event each, refusals throttled per reason, never the token. */
import { AuditorService, LoggerService } from '@backstage/backend-plugin-api';
import { Clock, SYSTEM_CLOCK } from './clock';
import { CloudflareAccessNotAllowedError } from './errors';

/** One sign-in outcome, for the audit trail: who, and why not. Never the token. */
export type SignInAuditEvent = {
  /** Who, or how to tell who when the event is audited (a throttled refusal never decodes its token). */
  subject: string | (() => string);
  /** The refusal reason code; absent for a sign-in. */
  reason?: string;
  error?: Error;
};

export type SignInAudit = (event: SignInAuditEvent) => Promise<void>;

/** How many refusals of one reason are audited per window; a flood of bad requests is not a flood of log lines. */
const REFUSALS_PER_WINDOW = 10;
const REFUSAL_WINDOW_MS = 10_000;
// A subject an unverified token claims is the caller's text: kept short and printable.
const MAX_SUBJECT_LENGTH = 300;

/** Text from a request, safe for one log line: no control characters, bounded length. */
export function printable(text: string, max = MAX_SUBJECT_LENGTH): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/**
 * Counts refusals per reason in fixed windows: the first few of each window
 * are audited, the rest only counted, and one line says how many were not.
 */
class RefusalThrottle {
  readonly #windows = new Map<
    string,
    { endsAt: number; audited: number; dropped: number }
  >();
  readonly #logger?: LoggerService;
  readonly #clock: Clock;

  constructor(clock: Clock, logger?: LoggerService) {
    this.#clock = clock;
    this.#logger = logger;
  }

  /** Whether to audit this refusal of `reason`. */
  admit(reason: string): boolean {
    const now = this.#clock.now();
    let window = this.#windows.get(reason);
    if (!window || now >= window.endsAt) {
      window = { endsAt: now + REFUSAL_WINDOW_MS, audited: 0, dropped: 0 };
      this.#windows.set(reason, window);
    }
    if (window.audited < REFUSALS_PER_WINDOW) {
      window.audited += 1;
      return true;
    }
    if (window.dropped === 0) {
      const closing = window;
      setTimeout(
        () => this.#report(reason, closing),
        closing.endsAt - now,
      ).unref();
    }
    window.dropped += 1;
    return false;
  }

  #report(reason: string, window: { dropped: number }) {
    this.#logger?.warn(
      `Cloudflare Access refused ${
        window.dropped
      } more requests (${reason}) in ${
        REFUSAL_WINDOW_MS / 1000
      }s than were audited one by one`,
    );
  }
}

/** The error an audit event carries: its kind and message, no stack (a refusal is expected, not a fault). */
function withoutStack(error: Error | undefined, reason: string): Error {
  // The audit trail is for administrators: a 403's details, not the person's sentence.
  const copy = new Error(
    error instanceof CloudflareAccessNotAllowedError
      ? error.details
      : error?.message ?? reason,
  );
  copy.name = error?.name ?? 'Error';
  delete copy.stack;
  return copy;
}

/** Records through Backstage's auditor service, or the logger where there is none. */
export function createSignInAudit(options: {
  auditor?: AuditorService;
  logger?: LoggerService;
  clock?: Clock;
}): SignInAudit {
  const { auditor, logger } = options;
  const throttle = new RefusalThrottle(options.clock ?? SYSTEM_CLOCK, logger);
  return async ({ subject, reason, error }) => {
    if (reason && !throttle.admit(reason)) {
      return;
    }
    const who = printable(typeof subject === 'string' ? subject : subject());
    if (!auditor) {
      logger?.info(
        reason
          ? `Cloudflare Access sign-in refused (${reason}) for ${who}`
          : `Cloudflare Access sign-in of ${who}`,
      );
      return;
    }
    const event = await auditor.createEvent({
      eventId: 'cfaccess-sign-in',
      severityLevel: reason ? 'medium' : 'low',
      meta: { subject: who, ...(reason && { reason }) },
    });
    if (reason) {
      await event.fail({ error: withoutStack(error, reason) });
    } else {
      await event.success();
    }
  };
}
