import { InfoCard, Progress } from '@backstage/core-components';
import { useCloudflareAccessSession } from '@cfaccess/cloudflare-access-react';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { useOwningAccessGroupIds } from './useAccessGroupOwnership';

/** The Access identity behind the session, from the provider info of the latest session check. */
export function AccessIdentityCard(props: { ownershipEntityRefs: string[] }) {
  const session = useCloudflareAccessSession();
  const groups =
    session.status === 'active' ? session.providerInfo.cfIdentity.groups : [];
  const owningIds = useOwningAccessGroupIds(
    groups.map(group => group.id),
    props.ownershipEntityRefs,
  );
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
      <ul data-testid="access-groups" style={{ paddingLeft: 0 }}>
        {groups.map(group => (
          <li key={group.id} style={{ listStyle: 'none', marginBottom: 4 }}>
            <Chip label={group.name} size="small" />
            {owningIds && !owningIds.has(group.id) && (
              <Typography
                component="span"
                variant="body2"
                color="textSecondary"
                data-testid="access-group-unmapped"
              >
                {' '}
                gives no ownership: not mapped in accessGroups
              </Typography>
            )}
          </li>
        ))}
      </ul>
      {groups.length === 0 && (
        <Typography color="textSecondary">
          {degraded
            ? 'Unknown: Cloudflare could not be reached when you signed in'
            : 'None'}
        </Typography>
      )}
    </InfoCard>
  );
}
