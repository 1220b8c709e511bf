import { coreApis, useApi } from '@backstage/frontend-plugin-api';
import useAsync from 'react-use/esm/useAsync';

/** The signed-in person's Backstage identity and profile, as the sign-in page set them. */
export function useSignedInIdentity() {
  const identityApi = useApi(coreApis.identity);
  return useAsync(async () => {
    const [identity, profile] = await Promise.all([
      identityApi.getBackstageIdentity(),
      identityApi.getProfileInfo(),
    ]);
    return { identity, profile, signOut: () => identityApi.signOut() };
  }, [identityApi]);
}
