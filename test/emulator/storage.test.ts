// The emulated Workspace, Files and DBFS APIs over real HTTP, including files that Python wrote in an
// execution context under CHOPPA_FS_ROOT and read back through each API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from './emulator.js';
import { call, createContext, run } from './support.js';

let emulator: Emulator;
let context: string;
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

beforeAll(async () => {
  emulator = await startEmulator();
  context = await createContext(emulator, DEFAULT_CLUSTER_ID);
});
afterAll(() => emulator.stop());

describe('workspace API', () => {
  it('mkdirs, imports, stats, lists, exports and deletes', async () => {
    expect((await call(emulator, 'POST', '/api/2.0/workspace/mkdirs', { path: '/Users/me/proj' })).status).toBe(200);
    const imported = await call(emulator, 'POST', '/api/2.0/workspace/import', { path: '/Users/me/proj/a.py', content: b64('print(1)\n'), format: 'RAW', overwrite: false });
    expect(imported).toMatchObject({ status: 200, body: {} });
    const status = await call(emulator, 'GET', '/api/2.0/workspace/get-status?path=/Users/me/proj/a.py');
    expect(status.body).toMatchObject({ path: '/Users/me/proj/a.py', object_type: 'FILE', size: 9 });
    const list = await call(emulator, 'GET', '/api/2.0/workspace/list?path=/Users/me/proj');
    expect(list.body.objects.map((object: { path: string }) => object.path)).toEqual(['/Users/me/proj/a.py']);
    const exported = await call(emulator, 'GET', '/api/2.0/workspace/export?path=/Users/me/proj/a.py');
    expect(exported.body).toEqual({ content: b64('print(1)\n'), file_type: 'py' });
    const direct = await call(emulator, 'GET', '/api/2.0/workspace/export?path=/Users/me/proj/a.py&direct_download=true');
    expect(direct.body).toBe('print(1)\n');
    const again = await call(emulator, 'POST', '/api/2.0/workspace/import', { path: '/Users/me/proj/a.py', content: b64('x'), format: 'RAW' });
    expect(again).toMatchObject({ status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS' } });
    const notEmpty = await call(emulator, 'POST', '/api/2.0/workspace/delete', { path: '/Users/me/proj' });
    expect(notEmpty).toMatchObject({ status: 400, body: { error_code: 'DIRECTORY_NOT_EMPTY' } });
    expect((await call(emulator, 'POST', '/api/2.0/workspace/delete', { path: '/Users/me/proj', recursive: true })).status).toBe(200);
    const gone = await call(emulator, 'GET', '/api/2.0/workspace/get-status?path=/Users/me/proj');
    expect(gone).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Path (/Users/me/proj) doesn't exist." } });
  });

  it('AUTO-imports a notebook source file as a NOTEBOOK without its extension', async () => {
    await call(emulator, 'POST', '/api/2.0/workspace/import', { path: '/Users/emulator@example.com/nb.py', content: b64('# Databricks notebook source\n1\n'), format: 'AUTO' });
    const status = await call(emulator, 'GET', '/api/2.0/workspace/get-status?path=/Users/emulator@example.com/nb');
    expect(status.body).toMatchObject({ object_type: 'NOTEBOOK', language: 'PYTHON' });
  });

  it('refuses an import into a missing folder and one over 10 MB', async () => {
    const missing = await call(emulator, 'POST', '/api/2.0/workspace/import', { path: '/Users/nobody/x/a.py', content: b64('1'), format: 'RAW' });
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    const big = await call(emulator, 'POST', '/api/2.0/workspace/import', { path: '/Users/big.py', content: b64(Buffer.alloc(10 * 1024 * 1024 + 1)), format: 'RAW' });
    expect(big).toMatchObject({ status: 400, body: { error_code: 'MAX_NOTEBOOK_SIZE_EXCEEDED' } });
  });

  it('import-file writes raw bytes, 409 when the file exists without overwrite', async () => {
    const path = '/api/2.0/workspace-files/import-file/Users/emulator@example.com/raw.txt';
    expect((await call(emulator, 'POST', path + '?overwrite=false', Buffer.from('raw bytes'))).status).toBe(200);
    expect((await call(emulator, 'POST', path + '?overwrite=false', Buffer.from('again'))).status).toBe(409);
    const exported = await call(emulator, 'GET', '/api/2.0/workspace/export?path=/Users/emulator@example.com/raw.txt&direct_download=true');
    expect(exported.body).toBe('raw bytes');
  });

  it('exports what Python wrote under /Workspace', async () => {
    await run(emulator, DEFAULT_CLUSTER_ID, context, "import os\nopen(os.environ['CHOPPA_FS_ROOT'] + '/Workspace/Users/emulator@example.com/out.txt', 'w').write('from python')");
    const exported = await call(emulator, 'GET', '/api/2.0/workspace/export?path=/Users/emulator@example.com/out.txt&direct_download=true');
    expect(exported).toMatchObject({ status: 200, body: 'from python' });
  });
});

describe('Files API', () => {
  it('uploads, downloads with Range, lists and deletes under /Volumes', async () => {
    const file = '/api/2.0/fs/files/Volumes/main/default/vol/dir/a%20b.txt';
    expect((await call(emulator, 'PUT', file, Buffer.from('0123456789'))).status).toBe(204);
    expect((await call(emulator, 'PUT', file + '?overwrite=false', Buffer.from('x'))).status).toBe(409);
    const ranged = await call(emulator, 'GET', file, undefined, { range: 'bytes=2-5' });
    expect(ranged.status).toBe(206);
    expect(ranged.body).toBe('2345');
    expect(ranged.headers.get('content-range')).toBe('bytes 2-5/10');
    const head = await call(emulator, 'HEAD', file);
    expect(head.headers.get('content-length')).toBe('10');
    expect(head.headers.get('last-modified')).toMatch(/GMT$/);
    const listing = await call(emulator, 'GET', '/api/2.0/fs/directories/Volumes/main/default/vol/dir');
    expect(listing.body.contents).toEqual([
      { path: '/Volumes/main/default/vol/dir/a b.txt', name: 'a b.txt', is_directory: false, file_size: 10, last_modified: expect.any(Number) },
    ]);
    const notEmpty = await call(emulator, 'DELETE', '/api/2.0/fs/directories/Volumes/main/default/vol/dir');
    expect(notEmpty.body.details[0].reason).toBe('FILES_API_DIRECTORY_IS_NOT_EMPTY');
    expect((await call(emulator, 'DELETE', file)).status).toBe(204);
    expect((await call(emulator, 'GET', file)).body).toMatchObject({ error_code: 'NOT_FOUND' });
    expect((await call(emulator, 'HEAD', '/api/2.0/fs/directories/Volumes/main/default/vol/nope')).status).toBe(404);
  });

  it('reads what Python wrote under /Volumes, with Range', async () => {
    await run(emulator, DEFAULT_CLUSTER_ID, context, "import os\nroot = os.environ['CHOPPA_FS_ROOT']\nos.makedirs(root + '/Volumes/x/y/z', exist_ok=True)\nopen(root + '/Volumes/x/y/z/y.txt', 'w').write('hello volume')");
    const ranged = await call(emulator, 'GET', '/api/2.0/fs/files/Volumes/x/y/z/y.txt', undefined, { range: 'bytes=6-' });
    expect(ranged).toMatchObject({ status: 206, body: 'volume' });
  });
});

describe('DBFS API', () => {
  it('puts inline up to 1 MB and refuses more with MAX_BLOCK_SIZE_EXCEEDED', async () => {
    expect((await call(emulator, 'POST', '/api/2.0/dbfs/put', { path: 'dbfs:/tmp/small.txt', contents: b64('small'), overwrite: true })).status).toBe(200);
    const big = await call(emulator, 'POST', '/api/2.0/dbfs/put', { path: '/tmp/big.bin', contents: b64(Buffer.alloc(1024 * 1024 + 1)) });
    expect(big).toMatchObject({ status: 400, body: { error_code: 'MAX_BLOCK_SIZE_EXCEEDED' } });
    const status = await call(emulator, 'GET', '/api/2.0/dbfs/get-status?path=dbfs:/tmp/small.txt');
    expect(status.body).toEqual({ path: '/tmp/small.txt', is_dir: false, file_size: 5, modification_time: expect.any(Number) });
  });

  it('streams with create/add-block/close and lists, refusing reads over 1 MB', async () => {
    const { body } = await call(emulator, 'POST', '/api/2.0/dbfs/create', { path: '/tmp/streamed.bin', overwrite: false });
    await call(emulator, 'POST', '/api/2.0/dbfs/add-block', { handle: body.handle, data: b64('abc') });
    await call(emulator, 'POST', '/api/2.0/dbfs/add-block', { handle: body.handle, data: b64('def') });
    await call(emulator, 'POST', '/api/2.0/dbfs/close', { handle: body.handle });
    const read = await call(emulator, 'GET', '/api/2.0/dbfs/read?path=/tmp/streamed.bin&offset=2&length=3');
    expect(read.body).toEqual({ bytes_read: 3, data: b64('cde') });
    const tooMuch = await call(emulator, 'GET', '/api/2.0/dbfs/read?path=/tmp/streamed.bin&length=1048577');
    expect(tooMuch.body.error_code).toBe('MAX_READ_SIZE_EXCEEDED');
    const list = await call(emulator, 'GET', '/api/2.0/dbfs/list?path=/tmp');
    expect(list.body.files.map((file: { path: string }) => file.path)).toEqual(['/tmp/small.txt', '/tmp/streamed.bin']);
    const notEmpty = await call(emulator, 'POST', '/api/2.0/dbfs/delete', { path: '/tmp', recursive: false });
    expect(notEmpty.body.error_code).toBe('IO_ERROR');
    const missing = await call(emulator, 'GET', '/api/2.0/dbfs/get-status?path=/nope');
    expect(missing).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
  });

  it('reads a 3 MB file Python wrote through /dbfs in 1 MB chunks', async () => {
    await run(emulator, DEFAULT_CLUSTER_ID, context, "import os\nroot = os.environ['CHOPPA_FS_ROOT']\nos.makedirs(root + '/dbfs/out', exist_ok=True)\nopen(root + '/dbfs/out/big.bin', 'wb').write(bytes(i % 251 for i in range(3 * 1024 * 1024)))");
    const chunks: Buffer[] = [];
    for (let offset = 0; ; ) {
      const { body } = await call(emulator, 'GET', `/api/2.0/dbfs/read?path=dbfs:/out/big.bin&offset=${offset}&length=1048576`);
      if (body.bytes_read === 0) break;
      chunks.push(Buffer.from(body.data, 'base64'));
      offset += body.bytes_read;
    }
    expect(chunks.map((chunk) => chunk.length)).toEqual([1048576, 1048576, 1048576]);
    const all = Buffer.concat(chunks);
    expect(all.every((byte, index) => byte === index % 251)).toBe(true);
  });
});
