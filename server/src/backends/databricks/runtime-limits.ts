// What a Databricks Runtime line allows a command's text result, and the runner report budget
// that follows from it. DBR 16.4 LTS and older cut a result to 50,000 characters, DBR 17+ to
// 10 MB (`spark.databricks.driver.maxReplOutputLength`); a runtime we cannot read gets the small one.

/** The smallest cap in use (DBR ≤ 16.4 LTS), in characters. */
export const SMALL_OUTPUT_CAP = 50_000;
/** DBR 17 and newer, in characters. */
export const LARGE_OUTPUT_CAP = 10 * 1024 * 1024;

/** Far below the small cap, so a REPL that adds to our line (or an admin's lower cap) still fits. */
export const SMALL_REPORT_BUDGET = 16_000;
/** Well below 10 MB: few round trips for heavy output, and still far from the cap. */
export const LARGE_REPORT_BUDGET = 1_000_000;

/** The major and minor version of a `spark_version` such as `16.4.x-scala2.12`; undefined for custom images. */
export function runtimeVersion(sparkVersion: string | undefined): { major: number; minor: number } | undefined {
  const match = /^(\d+)\.(\d+)\./.exec(sparkVersion ?? '');
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** The budget for runner reports on a cluster of this runtime. */
export function reportBudgetFor(sparkVersion: string | undefined): number {
  const version = runtimeVersion(sparkVersion);
  return version !== undefined && version.major >= 17 ? LARGE_REPORT_BUDGET : SMALL_REPORT_BUDGET;
}

/**
 * From how many waiting characters a stream goes to a side file, on every runtime: under the
 * small budget heavy output would take a command per report (900 for 14 MB under 16,000); under
 * the large one each report carries its output JSON-escaped through the REPL, the command result
 * and our parse, where a side file is raw bytes in one read (on the emulator a megabyte inline
 * cost three times a megabyte in a file).
 */
export function spillThresholdFor(budget: number): number {
  return Math.min(4 * budget, SPILL_THRESHOLD_MAX);
}

/** The threshold under the large budget: output this heavy goes to a file, lighter output inline. */
export const SPILL_THRESHOLD_MAX = 256 * 1024;
