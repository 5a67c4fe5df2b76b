// Small fetch helpers for the emulator's own tests: authenticated JSON calls and a 1.2 command round
// trip that polls like a client does (waiting on the emulator's answers, never on a fixed sleep).
import type { Emulator } from './emulator.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** One authenticated request; JSON bodies are encoded and JSON answers decoded. */
export async function call(emulator: Emulator, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${emulator.token}`, ...headers } };
  if (body !== undefined) {
    init.body = Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (!Buffer.isBuffer(body)) (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const response = await fetch(emulator.url + path, init);
  const text = method === 'HEAD' ? '' : await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls `until` every 10 ms for up to `timeoutMs`. */
export async function poll<T>(read: () => Promise<T>, until: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Creates a python context and waits until it is Running. */
export async function createContext(emulator: Emulator, clusterId: string): Promise<string> {
  const created = await call(emulator, 'POST', '/api/1.2/contexts/create', { clusterId, language: 'python' });
  if (created.status !== 200) throw new Error(`contexts/create: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  await poll(
    () => call(emulator, 'GET', `/api/1.2/contexts/status?clusterId=${clusterId}&contextId=${id}`),
    (answer) => answer.body.status !== 'Pending',
  );
  return id;
}

export async function execute(emulator: Emulator, clusterId: string, contextId: string, command: string): Promise<string> {
  const answer = await call(emulator, 'POST', '/api/1.2/commands/execute', { clusterId, contextId, language: 'python', command });
  if (answer.status !== 200) throw new Error(`commands/execute: ${JSON.stringify(answer.body)}`);
  return answer.body.id as string;
}

export function commandStatus(emulator: Emulator, clusterId: string, contextId: string, commandId: string): Promise<Answer> {
  return call(emulator, 'GET', `/api/1.2/commands/status?clusterId=${clusterId}&contextId=${contextId}&commandId=${commandId}`);
}

const TERMINAL = ['Finished', 'Error', 'Cancelled'];

/** Executes and waits for a terminal status; returns the status body. */
export async function run(emulator: Emulator, clusterId: string, contextId: string, command: string): Promise<any> {
  const id = await execute(emulator, clusterId, contextId, command);
  return (await poll(() => commandStatus(emulator, clusterId, contextId, id), (answer) => TERMINAL.includes(answer.body.status))).body;
}

export { alive } from '../support/processes.js';
