// What differs between Databricks Runtime lines as far as the emulator plays them: the command
// output cap (with the real marker between the head and the tail it keeps), whether the REPL
// swaps `sys.stdout` per command, and the `spark_version` clusters report.

/** Runtime lines the emulator plays: 16.4 LTS (what most workspaces run) and 17. */
export type RuntimeProfileName = '16.4' | '17';

export interface RuntimeProfile {
  name: RuntimeProfileName;
  sparkVersion: string;
  /** `spark.databricks.driver.maxReplOutputLength`, in characters. */
  outputCap: number;
  /** Each command runs inside `contextlib.redirect_stdout`/`redirect_stderr` of its own buffer. */
  swapsStdout: boolean;
}

export const RUNTIME_PROFILES: Record<RuntimeProfileName, RuntimeProfile> = {
  '16.4': { name: '16.4', sparkVersion: '16.4.x-scala2.12', outputCap: 50_000, swapsStdout: true },
  '17': { name: '17', sparkVersion: '17.3.x-scala2.13', outputCap: 10 * 1024 * 1024, swapsStdout: false },
};

/** The marker the driver puts where it cut a command's output (seen in real notebook exports). */
export const OUTPUT_CAP_MARKER = '\n\n... [*** WARNING: max output size exceeded, skipping output. ***] ...\n\n';

/** A text result cut to `cap` characters as the driver does: the head and the tail around the marker, mid-line. */
export function capOutput(text: string, cap: number): string {
  if (text.length <= cap) return text;
  const kept = Math.max(0, cap - OUTPUT_CAP_MARKER.length);
  const head = Math.ceil(kept / 2);
  return text.slice(0, head) + OUTPUT_CAP_MARKER + text.slice(text.length - (kept - head));
}
