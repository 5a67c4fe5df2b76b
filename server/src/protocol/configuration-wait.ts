// Runs wait for the first `workspace/configuration` answer, so they use the interpreter and
// cluster the user set; a client that never answers must not hold them forever. After a while
// they go on with the settings they have (the answer still applies when it comes), and the user
// is told.
import type { Session } from '../session.js';

/** How long runs wait for the first answer (`CHOPPA_CONFIGURATION_WAIT_MS` shortens it for tests). */
const CONFIGURATION_WAIT_MS = Number(process.env.CHOPPA_CONFIGURATION_WAIT_MS ?? 10_000);

/** Resolves when `pulled` does, or after `CONFIGURATION_WAIT_MS` with a warning. */
export function waitAWhile(session: Session, pulled: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((done) => {
    timer = setTimeout(() => {
      session.warn(`choppa: the editor has not answered workspace/configuration in ${CONFIGURATION_WAIT_MS / 1000} s; runs go on with the settings from initializationOptions (or the defaults) until it does.`);
      done();
    }, CONFIGURATION_WAIT_MS);
    timer.unref();
  });
  return Promise.race([pulled.finally(() => clearTimeout(timer)), late]);
}
