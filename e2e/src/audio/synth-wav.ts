/** 16-bit stereo PCM: a 220 Hz tone with a click every half second (120 BPM), for audio tests and benchmarks. */
export function synthWav(seconds: number, rate = 44_100): Buffer {
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    const t = i / rate;
    const click = t % 0.5 < 0.01 ? 0.6 * Math.exp(-(t % 0.5) * 400) : 0;
    const s = Math.round(Math.max(-1, Math.min(1, 0.3 * Math.sin(2 * Math.PI * 220 * t) + click)) * 32_767);
    data.writeInt16LE(s, i * 4);
    data.writeInt16LE(s, i * 4 + 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
