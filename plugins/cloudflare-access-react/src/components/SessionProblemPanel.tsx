import type { CloudflareAccessSessionState } from '../types';
import { AccessRefusedPanel } from './AccessRefusedPanel';
import { SessionEndedPanel } from './SessionEndedPanel';

/** The panel for a session that no longer signs the person in; nothing otherwise. */
export function SessionProblemPanel(props: {
  state: CloudflareAccessSessionState;
}) {
  const { state } = props;
  if (state.status === 'ended') {
    return <SessionEndedPanel reason={state.reason} />;
  }
  if (state.status === 'refused') {
    return <AccessRefusedPanel message={state.message} reason={state.reason} />;
  }
  return null;
}
