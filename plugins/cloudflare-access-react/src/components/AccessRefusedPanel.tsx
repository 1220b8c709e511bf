import { EmptyState } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import BlockIcon from '@material-ui/icons/Block';
import { ACCESS_LOGOUT_PATH } from '../constants';
import { PANEL_ICON_STYLE } from './panelIcon';

/** Access let the person through but Backstage did not: the backend's message says why and what to fix. */
export function AccessRefusedPanel(props: { message: string }) {
  return (
    <EmptyState
      missing={{ customImage: <BlockIcon style={PANEL_ICON_STYLE} /> }}
      title="You are signed in to Cloudflare Access, but not allowed into Backstage"
      description={props.message}
      action={
        <Button variant="outlined" color="primary" href={ACCESS_LOGOUT_PATH}>
          Sign out of Cloudflare Access
        </Button>
      }
    />
  );
}
