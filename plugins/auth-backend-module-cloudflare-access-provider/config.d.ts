import { HumanDuration } from '@backstage/types';

export interface Config {
  auth?: {
    providers?: {
      /** Sign-in through Cloudflare Access. */
      cfaccess?: {
        /**
         * The Zero Trust team name: the `<team>` in `<team>.cloudflareaccess.com`
         * (Zero Trust dashboard, Settings, Custom Pages, Team domain).
         * Required unless `teamDomain` is set.
         * @visibility backend
         */
        teamName?: string;
        /**
         * The full team domain URL, e.g. `https://acme.cloudflareaccess.com`;
         * overrides `teamName`. `http://localhost:<port>` points the module at
         * the local Access emulator.
         * @visibility backend
         */
        teamDomain?: string;
        /**
         * The Application Audience (AUD) tag of the Access application
         * (Access, Applications, your app, Overview), or a list of tags when
         * several Access applications front this Backstage.
         * @visibility backend
         */
        audience: string | string[];
        /**
         * The header Access puts the application token in.
         * Defaults to `cf-access-jwt-assertion`.
         * @visibility backend
         */
        jwtHeaderName?: string;
        /**
         * The cookie holding the application token, read when the header is absent.
         * Defaults to `CF_Authorization`.
         * @visibility backend
         */
        authorizationCookieName?: string;
        /**
         * How far the token's `exp` and `nbf` may be off the server clock,
         * as a duration (`30s`, `{ seconds: 30 }`). Defaults to 30 seconds; at most 5 minutes.
         * @visibility backend
         */
        clockTolerance?: HumanDuration | string;
        /**
         * How long a get-identity call to Access may take before sign-in goes
         * on with the token's own claims (no groups). Defaults to 5 seconds.
         * @visibility backend
         */
        identityTimeout?: HumanDuration | string;
        /**
         * How long get-identity's answer for an Access session is trusted
         * before the session is checked with Access again: an Access session
         * that was signed out or revoked is refused within this time.
         * Defaults to 60 seconds; between 1 second and 1 day.
         * @visibility backend
         */
        sessionCheckInterval?: HumanDuration | string;
        /**
         * The catalog Groups that Access groups stand for, by Access group id
         * (or the group email, which Google-style identity providers use as
         * the id), never by display name. `ownershipFromAccessGroups` grants
         * the mapped Groups that exist in the catalog.
         * @visibility backend
         */
        accessGroups?: Array<{
          /** The Access group id, or the group email, as get-identity reports it. */
          id: string;
          /** The catalog Group it stands for, e.g. `group:default/platform`. */
          entityRef: string;
        }>;
        /**
         * How long a resolved sign-in is reused for the same Access session,
         * and a User the catalog found is reused for new sessions of the same
         * person, so page loads and new sessions skip the catalog; also the
         * longest a User removed from the catalog stays signed in. Defaults to
         * 60 seconds; `0` disables both. At most 15 minutes.
         * @visibility backend
         */
        signInCacheDuration?: HumanDuration | string | 0;
        /**
         * Set it when two deployments of one Access application (same team
         * domain, same audience) share one cache store, e.g. blue and green,
         * so that neither reads the other's session state. Deployments with
         * different audiences are kept apart without it.
         * @visibility backend
         */
        cacheNamespace?: string;
        /**
         * The secret the auth module signs person-seen events with and the
         * catalog module checks them with (at least 32 characters, e.g.
         * `openssl rand -base64 32`). Needed only when the auth and catalog
         * plugins run in different backends: set the same value in both.
         * Without it, each backend signs with a key it makes at start, and
         * the catalog module keeps only the events of its own backend.
         * @visibility secret
         */
        personSeenEventSecret?: string;
        /**
         * Access service tokens allowed to sign in, and who each signs in as.
         * Backend only, not secret: a Client ID is sent on every request and
         * is useless without its Client Secret, which Access alone checks;
         * kept out of Backstage's log redaction so that log lines about a
         * service token stay readable.
         * @visibility backend
         */
        serviceTokens?: Array<{
          /** The service token's Client ID (`<id>.access`). */
          token: string;
          /** The email or entity ref (`user:default/ci-bot`) the token signs in as. */
          subject: string;
          /** When set, the signed-in identity owns exactly these entity refs and nothing else. */
          ownershipEntityRefs?: string[];
          /** When set, the token is accepted only for these of the configured audiences. */
          audience?: string | string[];
        }>;
        /**
         * How the Access identity is matched to a Backstage user.
         * @visibility backend
         */
        signIn?: {
          resolvers: Array<{
            /**
             * `emailMatchingUserEntityProfileEmail`,
             * `emailLocalPartMatchingUserEntityName` or
             * `idMatchingUserEntityAnnotation`.
             */
            resolver: string;
            /** Only these email domains may sign in. */
            allowedDomains?: string[];
            /** Only members of at least one of these Access groups (group id or group email) may sign in. */
            allowedGroups?: string[];
            /** Adds the catalog Groups that `accessGroups` maps the person's Access groups to. */
            ownershipFromAccessGroups?: boolean;
            /**
             * Also matches Access groups by display name, in `allowedGroups`
             * and as `group:default/<name>` for ownership. Dangerous: where
             * people can create groups, anyone can name one like a team.
             */
            dangerouslyMatchAccessGroupsByName?: boolean;
            /** Signs in people who have no User entity in the catalog. */
            dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
            /**
             * Signs in a person who has no User entity as the User that the
             * Cloudflare Access catalog module provisions for them, owning
             * the mapped Groups that exist; never service tokens. Needs
             * `allowedDomains`: start-up fails without it.
             */
            provisionUsers?: boolean;
            /**
             * With `provisionUsers`: the person's Access groups that
             * `accessGroups` maps to nothing become Groups named by their id
             * (`group:default/access-group-<id>`, the display name only as
             * title), which the provisioned User is a member of and owns.
             */
            provisionGroups?: boolean;
            /**
             * With `provisionUsers`: no new person is provisioned once this
             * many provisioned Users are in the catalog (403
             * `provisioning_limit`); those provisioned keep signing in.
             * Default 10000.
             */
            maxProvisionedUsers?: number;
            /**
             * With `provisionUsers`: at most this many new people are
             * provisioned an hour, on each replica (403
             * `provisioning_limit` past it). Default 100.
             */
            maxNewProvisionedUsersPerHour?: number;
            /**
             * With `provisionGroups`: at most this many Groups are
             * provisioned for one person, the first by Access group id.
             * Default 50.
             */
            maxProvisionedGroupsPerUser?: number;
          }>;
        };
      };
    };
  };
}
