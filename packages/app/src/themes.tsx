// The app's light and dark themes: Backstage's own, with the catalog fitted to a 1280 px screen.
import type { ReactElement } from 'react';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { ThemeBlueprint } from '@backstage/plugin-app-react';
import {
  createUnifiedTheme,
  palettes,
  UnifiedThemeProvider,
  type UnifiedThemeOptions,
} from '@backstage/theme';
import DarkIcon from '@material-ui/icons/Brightness2';
import LightIcon from '@material-ui/icons/WbSunny';

/**
 * Overrides of the catalog's styles, by the names Backstage gives them. At
 * 1280 px the pinned sidebar leaves the catalog's filter column 172 px and its
 * table less than the width of its eight columns.
 */
const components: UnifiedThemeOptions['components'] = {
  // Entity names break at their hyphens, not anywhere as the word-break of Backstage's table cells lets them ("backs tage").
  CatalogReactEntityDisplayName: {
    styleOverrides: { root: { wordBreak: 'normal' } },
  },
  // A list item keeps 48 px on its right for an icon button; the count needs less, and the label ("Owned", "Starred") gets the rest.
  CatalogReactUserListPicker: {
    styleOverrides: {
      menuItem: ({ theme }) => ({
        paddingLeft: theme.spacing(1),
        paddingRight: theme.spacing(5),
      }),
    },
  },
};

function appTheme(
  variant: 'light' | 'dark',
  title: string,
  icon: ReactElement,
) {
  const theme = createUnifiedTheme({ palette: palettes[variant], components });
  // Named as the app plugin's own themes, which these replace.
  return ThemeBlueprint.make({
    name: variant,
    params: {
      theme: {
        id: variant,
        title,
        variant,
        icon,
        Provider: ({ children }) => (
          <UnifiedThemeProvider theme={theme}>{children}</UnifiedThemeProvider>
        ),
      },
    },
  });
}

/** The light and dark themes, in place of the app plugin's. */
export const themesModule = createFrontendModule({
  pluginId: 'app',
  extensions: [
    appTheme('light', 'Light Theme', <LightIcon />),
    appTheme('dark', 'Dark Theme', <DarkIcon />),
  ],
});
