// Settings changes: pulled with `workspace/configuration` when the client supports it (Neovim
// 0.7 does not), otherwise taken from the notification itself.
import type { DidChangeConfigurationParams } from 'vscode-languageserver/node';
import { basename } from 'node:path';
import { parseSettings, settingsDifferences } from '../../config/settings.js';
import { pathToUri } from '../convert.js';
import type { Session } from '../../session.js';
import { publishDiagnostics } from '../diagnostics.js';

export async function pullConfiguration(session: Session): Promise<boolean> {
  if (!session.supportsConfiguration) return false;
  try {
    // The window's section, then each folder's: a folder may set values of its own (VS Code's
    // folder settings, Emacs's dir-locals), which one server for the window does not use.
    const roots = [...session.roots];
    const [section, ...folders] = (await session.connection.sendRequest('workspace/configuration', {
      items: [{ section: 'choppa' }, ...roots.map((root) => ({ scopeUri: pathToUri(root), section: 'choppa' }))],
    })) as unknown[];
    if (section !== null && section !== undefined) {
      session.settingsNotices.values(section);
      session.updateSettings(parseSettings(section));
    }
    session.settingsNotices.folderSettings(folderOwnSettings(session, roots, folders));
    return true;
  } catch (error) {
    session.log(`workspace/configuration failed: ${(error as Error).message}`);
    return false;
  }
}

/** Each folder whose answer resolves differently from the window's settings, with the keys that differ. */
function folderOwnSettings(session: Session, roots: readonly string[], answers: readonly unknown[]): string[] {
  const told: string[] = [];
  roots.forEach((root, index) => {
    const answer = answers[index];
    if (answer === null || answer === undefined) return;
    const keys = settingsDifferences(parseSettings(answer), session.settings);
    if (keys.length > 0) told.push(`${basename(root)} sets ${keys.map((key) => `choppa.${key}`).join(', ')} for itself`);
  });
  return told;
}

export async function didChangeConfiguration(session: Session, params: DidChangeConfigurationParams): Promise<void> {
  const pulled = await pullConfiguration(session);
  if (!pulled && params.settings !== null && params.settings !== undefined) {
    session.settingsNotices.values(params.settings);
    session.updateSettings(parseSettings(params.settings));
  }
  for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
}
