import Dialog from '@material-ui/core/Dialog';
import DialogContent from '@material-ui/core/DialogContent';
import { useCloudflareAccessSession } from '../session/sessionStore';
import { SessionProblemPanel } from './SessionProblemPanel';

/**
 * Covers the app once the Access session stops signing the person in, with
 * the way back: sign in again, or sign out of Access. Render it once at the
 * app root, next to `AlertDisplay`.
 *
 * @public
 */
export function CloudflareAccessSessionDialog() {
  const state = useCloudflareAccessSession();
  const open = state.status === 'ended' || state.status === 'refused';
  // No way to close it: every request to Backstage fails until the session is sorted out.
  return (
    <Dialog open={open} maxWidth="md" fullWidth>
      <DialogContent>
        <SessionProblemPanel state={state} />
      </DialogContent>
    </Dialog>
  );
}
