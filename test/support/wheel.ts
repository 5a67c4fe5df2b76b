// A wheel built in the test (a wheel is a zip with a dist-info), so requirements are installed
// offline with `pip --no-index --find-links`.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipArchive } from '../../server/src/bundle/zip-archive.js';

/** A pure-Python wheel of `tinypkg` 0.1, built by hand (a wheel is a zip with a dist-info). */
export function buildWheel(dir: string): void {
  const files: Record<string, string> = {
    'tinypkg/__init__.py': 'VALUE = "tiny from a wheel"\n',
    'tinypkg-0.1.dist-info/METADATA': 'Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n',
    'tinypkg-0.1.dist-info/WHEEL': 'Wheel-Version: 1.0\nGenerator: choppa-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  const record = Object.entries(files).map(([name, text]) => {
    const digest = createHash('sha256').update(text).digest('base64url');
    return `${name},sha256=${digest},${Buffer.byteLength(text)}`;
  });
  record.push('tinypkg-0.1.dist-info/RECORD,,');
  files['tinypkg-0.1.dist-info/RECORD'] = `${record.join('\n')}\n`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tinypkg-0.1-py3-none-any.whl'), zipArchive(Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) }))));
}
