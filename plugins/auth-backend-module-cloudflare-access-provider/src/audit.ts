import { AuditorService, LoggerService } from '@backstage/backend-plugin-api';

/** One sign-in outcome, for the audit trail: who, and why not. Never the token. */
export type SignInAuditEvent = {
  subject: string;
  /** The refusal reason code; absent for a sign-in. */
  reason?: string;
  error?: Error;
};

export type SignInAudit = (event: SignInAuditEvent) => Promise<void>;

/** Records through Backstage's auditor service, or the logger where there is none. */
export function createSignInAudit(options: {
  auditor?: AuditorService;
  logger?: LoggerService;
}): SignInAudit {
  const { auditor, logger } = options;
  return async ({ subject, reason, error }) => {
    if (!auditor) {
      logger?.info(
        reason
          ? `Cloudflare Access sign-in refused (${reason}) for ${subject}`
          : `Cloudflare Access sign-in of ${subject}`,
      );
      return;
    }
    const event = await auditor.createEvent({
      eventId: 'cfaccess-sign-in',
      severityLevel: reason ? 'medium' : 'low',
      meta: { subject, ...(reason && { reason }) },
    });
    if (reason) {
      await event.fail({ error: error ?? new Error(reason) });
    } else {
      await event.success();
    }
  };
}
