// Settings as editors send them: in `initializationOptions`, in `workspace/didChangeConfiguration`
// (with a payload, or none), and as the answer to `workspace/configuration`. A value the server
// cannot take is named in a warning with the value used instead, and the server keeps serving.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BARE_CAPABILITIES, EditorClient, tempDir } from '../support/lsp-client.js';

const text = ['from choppa import Choppa', 'dutch = Choppa()', '', '@dutch.remote', 'def f():', '    return 7', ''].join('\n');

const ignored = (message: string): boolean => message.includes('ignored:');

describe('setting values the server cannot take', () => {
  it('are named with the value used instead, from initializationOptions and from a change without workspace/configuration', async () => {
    const root = tempDir();
    const editor = await EditorClient.start({
      root,
      capabilities: BARE_CAPABILITIES,
      initializationOptions: { choppa: { backend: 'Local', runs: { maxParallel: '2' }, pythonPath: 'python3' } },
    });
    try {
      const told = await editor.waitForMessage(ignored);
      expect(told.type).toBe(2);
      expect(told.message).toContain('choppa.backend: "Local" is not one of "auto", "local", "dask"; using "auto"');
      expect(told.message).toContain('choppa.runs.maxParallel: "2" is not an integer of at least 1; using 4');
      // Still serving, with the defaults.
      const uri = await editor.open(join(root, 'jobs.py'), text);
      await editor.waitForDiagnostics(uri);
      expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'f' })).toMatchObject({ status: 'ok' });

      await editor.connection.sendNotification('workspace/didChangeConfiguration', { settings: { choppa: { cache: true } } });
      const changed = await editor.waitForMessage((message) => message.includes('choppa.cache'));
      expect(changed.message).toContain('choppa.cache: true is not one of "off", "on"; using "off"');
      expect(changed.message).not.toContain('choppa.backend');
      // Fixed, then a change without a payload: nothing more to say.
      await editor.connection.sendNotification('workspace/didChangeConfiguration', { settings: { choppa: { cache: 'on' } } });
      await editor.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
      expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'f' })).toMatchObject({ status: 'ok' });
      expect(editor.messages.filter((m) => ignored(m.message))).toHaveLength(2);
    } finally {
      await editor.stop();
    }
  });

  it('are named when they come as the answer to workspace/configuration', async () => {
    const editor = await EditorClient.start({ root: tempDir(), configuration: { diagnostics: { resultSeverity: 'info' }, inlayHints: { enable: 'yes' } } });
    try {
      const told = await editor.waitForMessage(ignored);
      expect(told.message).toContain('choppa.diagnostics.resultSeverity: "info" is not one of "hint", "information"; using "hint"');
      expect(told.message).toContain('choppa.inlayHints.enable: "yes" is not a boolean; using true');
    } finally {
      await editor.stop();
    }
  });
});

describe('a workspace folder with settings of its own', () => {
  it('is told that the window\'s settings serve it, naming the folder and the keys', async () => {
    const base = tempDir();
    const a = join(base, 'analytics');
    const b = join(base, 'reporting');
    mkdirSync(a);
    mkdirSync(b);
    const editor = await EditorClient.start({
      root: a,
      folders: [a, b],
      configuration: { pythonPath: 'python3' },
      folderConfiguration: (scopeUri) => (scopeUri.endsWith('/reporting') ? { pythonPath: 'python3', clusterId: '0123-456789-report', runs: { maxParallel: 2 } } : undefined),
    });
    try {
      // Before, the folder's cluster was silently not used: its runs went where the window's settings said.
      const told = await editor.waitForMessage((message) => message.includes('for itself'));
      expect(told.type).toBe(2);
      expect(told.message).toContain('reporting sets choppa.clusterId, choppa.runs.maxParallel for itself');
      expect(told.message).not.toContain('analytics');
      const uri = await editor.open(join(b, 'jobs.py'), text);
      await editor.waitForDiagnostics(uri);
      expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'f' })).toMatchObject({ status: 'ok' });
      // Told once, not at every change.
      await editor.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
      expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'f' })).toMatchObject({ status: 'ok' });
      expect(editor.messages.filter((m) => m.message.includes('for itself'))).toHaveLength(1);
    } finally {
      await editor.stop();
    }
  });

  it('says nothing when every folder answers as the window does (Neovim, Helix, VS Code window settings)', async () => {
    const base = tempDir();
    writeFileSync(join(base, 'jobs.py'), text);
    const editor = await EditorClient.start({ root: base, folders: [base], configuration: { pythonPath: 'python3' } });
    try {
      const uri = await editor.open(join(base, 'jobs.py'), text);
      await editor.waitForDiagnostics(uri);
      expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'f' })).toMatchObject({ status: 'ok' });
      expect(editor.messages.filter((m) => m.type <= 2)).toEqual([]);
    } finally {
      await editor.stop();
    }
  });
});

describe('a client that never answers workspace/configuration', () => {
  it('holds runs only a while, says so, and runs with the settings it has', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'jobs.py'), text);
    const editor = await EditorClient.start({ root, configurationHangs: true, env: { CHOPPA_CONFIGURATION_WAIT_MS: '500' } });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), text);
      await editor.waitForDiagnostics(uri);
      // Before, this run waited for the answer forever.
      expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'f' })).toMatchObject({ status: 'ok' });
      const told = await editor.waitForMessage((message) => message.includes('has not answered workspace/configuration'));
      expect(told.type).toBe(2);
    } finally {
      await editor.stop();
    }
  });
});
