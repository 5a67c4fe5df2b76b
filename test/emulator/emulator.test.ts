// The emulator's gateway behaviour and Clusters API over real HTTP: bearer-token checks, the
// unknown-endpoint body, the cluster state machine, request stats and every kind of injected fault.
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './emulator.js';
import { call, poll } from './support.js';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ token: 'dapi-test', clusters: [{ cluster_id: 'up', cluster_name: 'Up' }, { cluster_id: 'down', state: 'TERMINATED' }], clusterStartDelayMs: 100 });
});
afterAll(() => emulator.stop());
afterEach(() => emulator.faults.clear());

describe('authentication', () => {
  it('answers 401 without a bearer token and 403 for a wrong one, with numeric error codes', async () => {
    const none = await fetch(emulator.url + '/api/2.1/clusters/list');
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error_code: 401, message: expect.stringMatching(/^Credential was not sent or was of an unsupported type for this API\. \[ReqId: .+\]$/) });
    const wrong = await fetch(emulator.url + '/api/2.1/clusters/list', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-databricks-reason-phrase')).toBe('Invalid access token.');
    expect(await wrong.json()).toEqual({ error_code: 403, message: 'Invalid access token.' });
  });

  it('answers an unknown endpoint with ENDPOINT_NOT_FOUND', async () => {
    const answer = await call(emulator, 'GET', '/api/2.0/no/such/thing');
    expect(answer).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: "No API found for 'GET /no/such/thing'" } });
  });
});

describe('clusters', () => {
  it('gets and lists clusters on 2.0 and 2.1 paths', async () => {
    const got = await call(emulator, 'GET', '/api/2.0/clusters/get?cluster_id=up');
    expect(got.body).toMatchObject({ cluster_id: 'up', cluster_name: 'Up', state: 'RUNNING', state_message: '' });
    const list = await call(emulator, 'GET', '/api/2.1/clusters/list');
    expect(list.body.clusters.map((cluster: { cluster_id: string }) => cluster.cluster_id)).toEqual(['up', 'down']);
  });

  it('answers an unknown id with 400 INVALID_PARAMETER_VALUE "does not exist"', async () => {
    const answer = await call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=ghost');
    expect(answer).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Cluster ghost does not exist' } });
  });

  it('lists in pages of at most page_size, each naming the next and the previous one', async () => {
    const paged = await startEmulator({ clusters: ['a', 'b', 'c'].map((cluster_id) => ({ cluster_id })) });
    try {
      const first = await call(paged, 'GET', '/api/2.1/clusters/list?page_size=2');
      expect(first.body.clusters.map((c: { cluster_id: string }) => c.cluster_id)).toEqual(['a', 'b']);
      expect(first.body.prev_page_token).toBeUndefined();
      const second = await call(paged, 'GET', `/api/2.1/clusters/list?page_size=2&page_token=${first.body.next_page_token}`);
      expect(second.body.clusters.map((c: { cluster_id: string }) => c.cluster_id)).toEqual(['c']);
      expect(second.body.next_page_token).toBeUndefined();
      expect(typeof second.body.prev_page_token).toBe('string');
      expect((await call(paged, 'GET', '/api/2.1/clusters/list?page_token=bogus')).status).toBe(400);
    } finally {
      await paged.stop();
    }
  });

  it('starts a terminated cluster through PENDING to RUNNING; starting it again is INVALID_STATE', async () => {
    const terminated = await call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=down');
    expect(terminated.body).toMatchObject({ state: 'TERMINATED', termination_reason: { code: 'INACTIVITY' } });
    expect((await call(emulator, 'POST', '/api/2.1/clusters/start', { cluster_id: 'down' })).body).toEqual({});
    expect((await call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=down')).body.state).toBe('PENDING');
    const again = await call(emulator, 'POST', '/api/2.1/clusters/start', { cluster_id: 'down' });
    expect(again).toMatchObject({ status: 400, body: { error_code: 'INVALID_STATE', message: 'Cluster down is in unexpected state Pending.' } });
    const running = await poll(() => call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=down'), (answer) => answer.body.state === 'RUNNING');
    expect(running.body.state).toBe('RUNNING');
    expect(running.body.termination_reason).toBeUndefined();
  });
});

describe('faults and stats', () => {
  it('counts requests by method and path', async () => {
    const before = emulator.stats.count('GET', '/api/2.1/clusters/get');
    const sent = Date.now();
    await call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=up');
    expect(emulator.stats.count('GET', '/api/2.1/clusters/get')).toBe(before + 1);
    expect(emulator.stats.requests.at(-1)).toEqual({ method: 'GET', path: '/api/2.1/clusters/get', status: 200, bytes: 0, at: expect.any(Number) });
    expect(emulator.stats.requests.at(-1)!.at).toBeGreaterThanOrEqual(sent);
    expect(emulator.stats.requests.at(-1)!.at).toBeLessThanOrEqual(Date.now());
  });

  it('delays matching requests', async () => {
    emulator.faults.latency({ method: 'GET', path: '/api/2.1/clusters/list' }, 150);
    const started = Date.now();
    await call(emulator, 'GET', '/api/2.1/clusters/list');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('answers 429 and 503 N times with Retry-After and the service body, then recovers', async () => {
    emulator.faults.status({ path: /clusters\/get$/ }, 429, { times: 2, retryAfterSeconds: 3 });
    const first = await call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=up');
    expect(first).toMatchObject({ status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED' } });
    expect(first.headers.get('retry-after')).toBe('3');
    expect((await call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=up')).status).toBe(429);
    expect((await call(emulator, 'GET', '/api/2.1/clusters/get?cluster_id=up')).status).toBe(200);
    emulator.faults.status({ path: '/api/2.1/clusters' }, 503);
    const unavailable = await call(emulator, 'GET', '/api/2.1/clusters/list');
    expect(unavailable).toMatchObject({ status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE' } });
    expect(unavailable.headers.get('retry-after')).toBe('1');
  });

  it('resets the connection N times', async () => {
    emulator.faults.reset({ path: '/api/2.1/clusters/list' }, 1);
    await expect(call(emulator, 'GET', '/api/2.1/clusters/list')).rejects.toThrow();
    expect((await call(emulator, 'GET', '/api/2.1/clusters/list')).status).toBe(200);
  });

  it('answers 500 with an HTML page', async () => {
    emulator.faults.html500({ path: '/api/2.1/clusters/list' });
    const answer = await call(emulator, 'GET', '/api/2.1/clusters/list');
    expect(answer.status).toBe(500);
    expect(answer.headers.get('content-type')).toMatch(/text\/html/);
    expect(answer.body).toContain('<title>Error 500 Server Error</title>');
  });

  it('performs the action but drops the response', async () => {
    emulator.faults.dropResponse({ method: 'POST', path: '/api/2.0/dbfs/put' });
    await expect(call(emulator, 'POST', '/api/2.0/dbfs/put', { path: '/dropped.txt', contents: Buffer.from('kept').toString('base64') })).rejects.toThrow();
    const read = await call(emulator, 'GET', '/api/2.0/dbfs/read?path=/dropped.txt');
    expect(Buffer.from(read.body.data, 'base64').toString()).toBe('kept');
  });

  it('injects 401 like the service sends it', async () => {
    emulator.faults.status({ path: '/api/2.1/clusters/list' }, 401);
    expect((await call(emulator, 'GET', '/api/2.1/clusters/list')).body.error_code).toBe(401);
  });

  it('lets a raw socket see the reset', async () => {
    emulator.faults.reset({ path: '/api/2.0/workspace/list' });
    const error = await new Promise<Error>((resolve) => {
      request(emulator.url + '/api/2.0/workspace/list?path=/', { headers: { authorization: `Bearer ${emulator.token}` } }, () => resolve(new Error('answered')))
        .on('error', resolve)
        .end();
    });
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });
});
