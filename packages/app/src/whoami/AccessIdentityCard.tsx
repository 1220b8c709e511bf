import { InfoCard, Progress } from '@backstage/core-components';
import { useCloudflareAccessSession } from '@cfaccess/cloudflare-access-react';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';

/** The Access identity behind the session, from the provider info of the latest session check. */
export function AccessIdentityCard() {
  const session = useCloudflareAccessSession();
  if (session.status === 'pending') {
    return <Progress />;
  }
  // An ended or refused session has the session dialog in front of the page.
  if (session.status !== 'active') {
    return null;
  }
  const { cfIdentity, degraded } = session.providerInfo;
  return (
    <InfoCard title="Cloudflare Access">
      <Typography variant="subtitle2">Access email</Typography>
      <Typography paragraph data-testid="access-email">
        {cfIdentity.email}
      </Typography>
      <Typography variant="subtitle2">Access groups</Typography>
      <div data-testid="access-groups">
        {cfIdentity.groups.map(group => (
          <Chip key={group.id} label={group.name} size="small" />
        ))}
        {cfIdentity.groups.length === 0 && (
          <Typography color="textSecondary">
            {degraded
              ? 'Unknown: Cloudflare could not be reached when you signed in'
              : 'None'}
          </Typography>
        )}
      </div>
    </InfoCard>
  );
}
