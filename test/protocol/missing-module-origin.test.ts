// A run that fails importing a third-party module that its function never imports: the package's
// `__init__.py` re-exports the instance from `cluster.py`, which imports it at module level and
// ships with every function importing a sibling module. The error says where it is imported.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const jobs = ['from . import dutch', '', '', '@dutch.remote', 'def scored(x):', '    from .features import weight', '    return weight(x)', ''].join('\n');

let editor: EditorClient;
let uri: string;

beforeAll(async () => {
  const root = tempDir();
  mkdirSync(join(root, 'src/churn'), { recursive: true });
  writeFileSync(join(root, 'pyproject.toml'), '[project]\nname = "churn"\n\n[tool.setuptools.packages.find]\nwhere = ["src"]\n');
  writeFileSync(join(root, 'src/churn/__init__.py'), 'from .cluster import dutch\n');
  writeFileSync(join(root, 'src/churn/cluster.py'), 'import warehouse_client_not_installed\nfrom choppa import Choppa\n\ndutch = Choppa()\n');
  writeFileSync(join(root, 'src/churn/features.py'), 'def weight(x):\n    return 2 * x\n');
  writeFileSync(join(root, 'src/churn/jobs.py'), jobs);
  editor = await EditorClient.start({ root });
  uri = await editor.open(join(root, 'src/churn/jobs.py'), jobs);
});

afterAll(async () => {
  await editor.stop();
});

describe('a third-party module imported by a shipped project module', () => {
  it('is named with the file and line that import it', async () => {
    const result = await editor.executeCommand<{ status: string; error?: { type: string; message: string } }>('choppa.run', { uri, function: 'scored', args: '5' });
    expect(result.status).toBe('error');
    expect(result.error).toEqual({
      type: 'ModuleNotFoundError',
      message:
        "No module named 'warehouse_client_not_installed': it is imported at line 1 of src/churn/cluster.py, a project module that ships with scored; " +
        "declare `warehouse_client_not_installed` in the project's requirements, or install it where the function runs",
      line: 5,
      frames: expect.any(Array),
    });
  });
});
