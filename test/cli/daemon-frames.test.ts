// The CLI daemon's frames, as pure code: whatever way the bytes are cut, the reader gives the
// frames whole and in order; output is cut into frames under the limit without splitting a
// character; a broken stream is refused rather than read as garbage.
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader, MAX_FRAME_BYTES, textFrames, type Frame } from '../../server/src/cli-daemon/frames.js';

function readAll(bytes: Buffer, cut: number): Frame[] {
  const reader = new FrameReader();
  const frames: Frame[] = [];
  for (let at = 0; at < bytes.length; at += cut) {
    const read = reader.push(bytes.subarray(at, at + cut));
    if ('failure' in read) throw new Error(read.failure);
    frames.push(...read);
  }
  return frames;
}

describe('daemon frames', () => {
  it('come out whole and in order however the bytes are cut', () => {
    const sent: Frame[] = [
      { type: 'request', text: JSON.stringify({ argv: ['run', 'jobs.py:add'] }) },
      { type: 'err', text: '… running add\n' },
      { type: 'out', text: 'ünïcödé 🐍 and an empty one next\n' },
      { type: 'out', text: '' },
      { type: 'exit', text: '{"code":0}' },
    ];
    const bytes = Buffer.concat(sent.map((frame) => encodeFrame(frame.type, frame.text)));
    for (const cut of [1, 2, 3, 5, 7, 64, bytes.length]) expect(readAll(bytes, cut)).toEqual(sent);
  });

  it('cut long output into frames under the limit, never inside a character', () => {
    const text = `${'a'.repeat(MAX_FRAME_BYTES / 4 - 1)}🐍${'b'.repeat(10)}`;
    const frames = [...textFrames('err', text)];
    expect(frames.length).toBe(2);
    for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(MAX_FRAME_BYTES + 5);
    const back = readAll(Buffer.concat(frames), 65_536);
    expect(back.map((frame) => frame.text).join('')).toBe(text);
    expect(back.every((frame) => !frame.text.includes('\uFFFD'))).toBe(true);
  });

  it('refuse a stream that is not frames', () => {
    expect(new FrameReader().push(Buffer.from('GET / HTTP/1.1\r\n'))).toMatchObject({ failure: expect.stringContaining('broken frame') });
    const huge = Buffer.alloc(5);
    huge[0] = 0x4f;
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1, 1);
    expect(new FrameReader().push(huge)).toMatchObject({ failure: expect.stringContaining('broken frame') });
  });
});
