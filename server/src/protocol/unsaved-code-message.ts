// The warning of a run or a submission that shipped an open buffer's unsaved text: what ran is not
// what is saved, so the CLI, a later submission or a colleague would run other code.
const SHOWN_FILES = 3;

/** `choppa: échelle ran the unsaved text of src/jobs.py, …`, or of several files (at most three named). */
export function unsavedCodeMessage(name: string, files: readonly string[], submitted: boolean): string {
  const named = files.slice(0, SHOWN_FILES).join(', ') + (files.length > SHOWN_FILES ? ` and ${files.length - SHOWN_FILES} more` : '');
  const verb = submitted ? 'the job of ' + name + ' runs' : name + ' ran';
  return `choppa: ${verb} the unsaved text of ${named}, not the file${files.length > 1 ? 's' : ''} on disk: save to run the same code from the CLI or a job.`;
}
