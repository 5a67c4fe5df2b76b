// What the user is told about the settings the client sent: values that cannot be taken (they fall
// back to defaults, and a silent `backend: "Local"` would send runs to the cluster), and workspace
// folders with settings of their own, which one server for the window does not use. Each set of
// findings is told once, not again at every configuration change.
import { settingsProblems, type RawSettings } from '../config/settings.js';

export class SettingsNotices {
  private toldValues = '';
  private toldFolders = '';

  constructor(private readonly warn: (message: string) => void) {}

  /** Warns about the values of `raw` that cannot be taken (a wrong type, a value outside an enum). */
  values(raw: RawSettings): void {
    const problems = settingsProblems(raw);
    const told = problems.join('\n');
    if (told === this.toldValues) return;
    this.toldValues = told;
    if (problems.length > 0) this.warn(`choppa: ${problems.length === 1 ? 'a setting was' : 'settings were'} ignored: ${problems.join('; ')}.`);
  }

  /** Warns about folders that set settings for themselves (`reporting sets choppa.clusterId for itself`). */
  folderSettings(folders: readonly string[]): void {
    const told = folders.join('\n');
    if (told === this.toldFolders) return;
    this.toldFolders = told;
    if (folders.length === 0) return;
    this.warn(`choppa: ${folders.join('; ')}, but one choppa-lsp serves every folder of this window with the window's settings, so the folder's are not used: set them for the whole workspace, or open that folder in a window of its own.`);
  }
}
