import { EmptyState } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import BlockIcon from '@material-ui/icons/Block';
import { signInAgainThroughAccess } from '../session/accessLogout';
import { PANEL_ICON_STYLE } from './panelIcon';

/**
 * Access let the person through but Backstage did not: the backend's
 * sentence for the person, the ways on, and the reason code for whoever
 * they ask.
 */
export function AccessRefusedPanel(props: {
  message: string;
  reason?: string;
}) {
  return (
    <EmptyState
      missing={{ customImage: <BlockIcon style={PANEL_ICON_STYLE} /> }}
      title="You are signed in to Cloudflare Access, but not allowed into Backstage"
      description={props.message}
      action={
        <>
          <Button
            variant="contained"
            color="primary"
            // Ends the Access session first, so Access asks who they are instead of sending the same account back.
            onClick={() => signInAgainThroughAccess()}
          >
            Sign in with another account
          </Button>
          <Typography variant="body2" style={{ marginTop: 16 }}>
            Or ask your Backstage administrator to let you in.
          </Typography>
          {props.reason && (
            <Typography
              variant="caption"
              color="textSecondary"
              component="p"
              data-testid="refusal-details"
            >
              Details for your administrator: reason <code>{props.reason}</code>
            </Typography>
          )}
        </>
      }
    />
  );
}
