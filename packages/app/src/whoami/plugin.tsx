import {
  createFrontendPlugin,
  createRouteRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import PersonIcon from '@material-ui/icons/Person';

/** The nav lists pages that have a route ref. */
const whoAmIRouteRef = createRouteRef();

const whoAmIPage = PageBlueprint.make({
  params: {
    path: '/whoami',
    routeRef: whoAmIRouteRef,
    title: 'Who am I',
    icon: <PersonIcon />,
    loader: () => import('./WhoAmIPage').then(m => <m.WhoAmIPage />),
  },
});

/** A page showing who Backstage and Cloudflare Access think you are. */
export const whoAmIPlugin = createFrontendPlugin({
  pluginId: 'whoami',
  extensions: [whoAmIPage],
  routes: { root: whoAmIRouteRef },
});
