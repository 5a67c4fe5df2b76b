// Whether a process id names a live process, for files that record their writer's pid (the state
// lock, a download's partial file): what a killed writer left can be told from a live one's.

/** True when `pid` is a live process, this user's or another's (EPERM: it exists). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
