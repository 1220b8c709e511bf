import { EmptyState } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import TimerOffIcon from '@material-ui/icons/TimerOff';
import { signInAgainThroughAccess } from '../session/accessLogout';
import { PANEL_ICON_STYLE } from './panelIcon';

/** The Access session is over: signing in again ends it at Access too, so Access asks who you are and issues a fresh token. */
export function SessionEndedPanel(props: { reason?: string }) {
  // session_ended: Access itself says the session was signed out or revoked, not merely timed out.
  const description =
    props.reason === 'session_ended'
      ? 'Cloudflare Access says your session was signed out or revoked. Sign in again to carry on: Cloudflare Access will ask who you are.'
      : 'Sign in again to carry on: Cloudflare Access will ask who you are.';
  return (
    <EmptyState
      // An inline icon: with the session over, Access redirects image requests to its login page.
      missing={{ customImage: <TimerOffIcon style={PANEL_ICON_STYLE} /> }}
      title="Your Cloudflare Access session has ended"
      description={description}
      action={
        <Button
          variant="contained"
          color="primary"
          onClick={() => signInAgainThroughAccess()}
        >
          Sign in again
        </Button>
      }
    />
  );
}
