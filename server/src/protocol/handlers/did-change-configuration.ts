// Settings changes: pulled with `workspace/configuration` when the client supports it (Neovim
// 0.7 does not), otherwise taken from the notification itself.
import type { DidChangeConfigurationParams } from 'vscode-languageserver/node';
import { parseSettings } from '../../config/settings.js';
import type { Session } from '../../session.js';
import { publishDiagnostics } from '../diagnostics.js';

export async function pullConfiguration(session: Session): Promise<boolean> {
  if (!session.supportsConfiguration) return false;
  try {
    const [section] = (await session.connection.sendRequest('workspace/configuration', {
      items: [{ section: 'choppa' }],
    })) as unknown[];
    if (section !== null && section !== undefined) {
      session.tellSettingsProblems(section);
      session.updateSettings(parseSettings(section));
    }
    return true;
  } catch (error) {
    session.log(`workspace/configuration failed: ${(error as Error).message}`);
    return false;
  }
}

export async function didChangeConfiguration(session: Session, params: DidChangeConfigurationParams): Promise<void> {
  const pulled = await pullConfiguration(session);
  if (!pulled && params.settings !== null && params.settings !== undefined) {
    session.tellSettingsProblems(params.settings);
    session.updateSettings(parseSettings(params.settings));
  }
  for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
}
