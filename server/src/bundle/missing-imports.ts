// What the last check before a run found missing where the run happens: per file and function,
// the third-party top-level modules its shipped code imports that the cluster (or the local
// Python) cannot import and the requirements do not declare. Kept in memory, bounded; each check
// replaces the previous answer for that function.
const MAX_FILES = 1000;

export class MissingImports {
  private readonly byFile = new Map<string, Map<string, string[]>>();

  /** Records a check; returns whether what is shown changed. */
  record(filePath: string, functionName: string, missing: string[]): boolean {
    const functions = this.byFile.get(filePath) ?? new Map<string, string[]>();
    const before = (functions.get(functionName) ?? []).join(',');
    if (missing.length === 0) functions.delete(functionName);
    else functions.set(functionName, [...missing].sort().slice(0, 100));
    this.byFile.delete(filePath);
    if (functions.size > 0) this.byFile.set(filePath, functions);
    if (this.byFile.size > MAX_FILES) this.byFile.delete(this.byFile.keys().next().value as string);
    return before !== [...missing].sort().slice(0, 100).join(',');
  }

  /** The missing modules of each function of a file. */
  of(filePath: string): ReadonlyMap<string, string[]> {
    return this.byFile.get(filePath) ?? new Map();
  }
}
