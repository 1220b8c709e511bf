import type { CSSProperties } from 'react';

/** The panels' illustration: a large, quiet icon in place of EmptyState's picture. */
export const PANEL_ICON_STYLE: CSSProperties = {
  fontSize: 160,
  color: 'rgba(0, 0, 0, 0.2)',
};
