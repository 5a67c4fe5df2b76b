// User code runs without the server's credentials: a function reading them on the local backend
// sees nothing, unless the setting `choppa.passEnvironment` names one on purpose.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const text = [
  'from choppa import Choppa',
  'dutch = Choppa()',
  '@dutch.remote',
  'def secrets():',
  '    import os',
  "    return {k: os.environ.get(k) for k in ['ARM_CLIENT_SECRET', 'AWS_SECRET_ACCESS_KEY', 'CHOPPA_VISIBLE']}",
  '',
].join('\n');

async function secretsSeen(configuration?: unknown): Promise<unknown> {
  const root = tempDir();
  const editor = await EditorClient.start({
    root,
    env: { ARM_CLIENT_SECRET: 'arm-secret', AWS_SECRET_ACCESS_KEY: 'aws-secret', CHOPPA_VISIBLE: 'plain' },
    ...(configuration === undefined ? {} : { configuration }),
  });
  try {
    const uri = await editor.open(join(root, 'jobs.py'), text);
    const result = await editor.executeCommand<{ value?: { json?: unknown } }>('choppa.run', { uri, function: 'secrets' });
    return result.value?.json;
  } finally {
    await editor.stop();
  }
}

describe('the environment of user code', () => {
  it('holds none of the server credentials', async () => {
    expect(await secretsSeen()).toEqual({ ARM_CLIENT_SECRET: null, AWS_SECRET_ACCESS_KEY: null, CHOPPA_VISIBLE: 'plain' });
  });

  it('holds the ones choppa.passEnvironment names', async () => {
    expect(await secretsSeen({ passEnvironment: 'ARM_CLIENT_SECRET' })).toEqual({ ARM_CLIENT_SECRET: 'arm-secret', AWS_SECRET_ACCESS_KEY: null, CHOPPA_VISIBLE: 'plain' });
  });
});
