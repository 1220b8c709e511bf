import {
  Content,
  ErrorPanel,
  InfoCard,
  Progress,
} from '@backstage/core-components';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { AccessIdentityCard } from './AccessIdentityCard';
import { CatalogUserCard } from './CatalogUserCard';
import { useSignedInIdentity } from './useSignedInIdentity';

/** Who Backstage (identity API), Access (provider info) and the catalog (User entity) think you are. */
export function WhoAmIPage() {
  const { value, loading, error } = useSignedInIdentity();
  if (loading) {
    return <Progress />;
  }
  if (error || !value) {
    return <ErrorPanel error={error ?? new Error('No identity')} />;
  }
  const { identity, profile, signOut } = value;
  return (
    <Content>
      <Grid container spacing={3}>
        <Grid item xs={12} md={6}>
          <InfoCard
            title={
              <span data-testid="profile-name">
                {profile.displayName ?? identity.userEntityRef}
              </span>
            }
            subheader={profile.email}
            actions={
              <Button variant="outlined" color="primary" onClick={signOut}>
                Sign out
              </Button>
            }
          >
            <Typography variant="subtitle2">User entity</Typography>
            <Typography paragraph data-testid="user-entity-ref">
              <EntityRefLink entityRef={identity.userEntityRef}>
                {identity.userEntityRef}
              </EntityRefLink>
            </Typography>
            <Typography variant="subtitle2">Ownership</Typography>
            <ul data-testid="ownership-entity-refs">
              {identity.ownershipEntityRefs.map(ref => (
                <li key={ref}>
                  <EntityRefLink entityRef={ref}>{ref}</EntityRefLink>
                </li>
              ))}
            </ul>
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <AccessIdentityCard
            ownershipEntityRefs={identity.ownershipEntityRefs}
          />
        </Grid>
        <Grid item xs={12} md={6}>
          <CatalogUserCard userEntityRef={identity.userEntityRef} />
        </Grid>
      </Grid>
    </Content>
  );
}
