import { ErrorPanel, InfoCard, Progress } from '@backstage/core-components';
import { useApi } from '@backstage/frontend-plugin-api';
import { catalogApiRef, EntityRefLink } from '@backstage/plugin-catalog-react';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';

/** The signed-in person's User entity, which sign-in provisioning puts in the catalog seconds later. */
export function CatalogUserCard(props: { userEntityRef: string }) {
  const { userEntityRef } = props;
  const catalogApi = useApi(catalogApiRef);
  const {
    value: user,
    loading,
    error,
    retry,
  } = useAsyncRetry(
    () => catalogApi.getEntityByRef(userEntityRef),
    [catalogApi, userEntityRef],
  );

  let content;
  if (loading) {
    content = <Progress />;
  } else if (error) {
    content = <ErrorPanel error={error} />;
  } else if (user) {
    const profile = (user.spec?.profile ?? {}) as {
      displayName?: string;
      email?: string;
    };
    const memberOf = (user.relations ?? []).filter(
      relation => relation.type === 'memberOf',
    );
    content = (
      <div data-testid="catalog-user">
        <Typography variant="subtitle2">Display name</Typography>
        <Typography paragraph>
          {profile.displayName ?? user.metadata.name}
        </Typography>
        <Typography variant="subtitle2">Email</Typography>
        <Typography paragraph>{profile.email ?? 'None'}</Typography>
        <Typography variant="subtitle2">Member of</Typography>
        <ul data-testid="catalog-member-of">
          {memberOf.map(({ targetRef }) => (
            <li key={targetRef}>
              <EntityRefLink entityRef={targetRef}>{targetRef}</EntityRefLink>
            </li>
          ))}
        </ul>
        {memberOf.length === 0 && (
          <Typography color="textSecondary">None</Typography>
        )}
      </div>
    );
  } else {
    content = (
      <Typography data-testid="catalog-user-missing">
        The catalog has no entity for {userEntityRef} yet; a provisioned user
        appears within seconds.
      </Typography>
    );
  }
  const checkAgain =
    loading || user ? undefined : (
      <Button
        variant="outlined"
        color="primary"
        onClick={retry}
        data-testid="catalog-check-again"
      >
        Check again
      </Button>
    );
  return (
    <InfoCard title="In the catalog" actions={checkAgain}>
      {content}
    </InfoCard>
  );
}
