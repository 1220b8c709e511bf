import type {
  BackstageUserIdentity,
  IdentityApi,
  ProfileInfo,
} from '@backstage/frontend-plugin-api';
import { signOutOfAccess } from './accessLogout';
import type { AccessSessionWatch } from './watchAccessSession';

/**
 * The identity ProxiedSignInPage produced, plus what Access needs: sign-out
 * ends the Access session, and a failing refresh has the session checked.
 */
export class CloudflareAccessIdentity implements IdentityApi {
  constructor(
    private readonly inner: IdentityApi,
    private readonly watch: AccessSessionWatch,
  ) {}

  getProfileInfo(): Promise<ProfileInfo> {
    return this.watched(this.inner.getProfileInfo());
  }

  getBackstageIdentity(): Promise<BackstageUserIdentity> {
    return this.watched(this.inner.getBackstageIdentity());
  }

  getCredentials(): Promise<{ token?: string }> {
    return this.watched(this.inner.getCredentials());
  }

  async signOut(): Promise<void> {
    this.watch.stop();
    await this.inner.signOut();
    signOutOfAccess();
    // Never settle: once this resolves the app navigates to its own sign-out target, cancelling the logout.
    return new Promise<void>(() => {});
  }

  private async watched<T>(result: Promise<T>): Promise<T> {
    try {
      return await result;
    } catch (error) {
      // A refresh behind Access fails in many shapes (redirect, 401, HTML); the watch tells which.
      this.watch.checkNow();
      throw error;
    }
  }
}
