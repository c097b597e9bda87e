import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes a stand-in `switchforge_audio` package honouring the Python contract. What it does is
 * chosen by the first word of the input file, so one worker set serves every scenario:
 *   CORRUPT   → analyzer exits 2 with CorruptAudio
 *   SLOW      → separator reports progress and runs for a minute
 *   ONCE_SLOW → separator runs for a minute on its first attempt only
 *   PAUSE     → separator reports progress for 4 s, then succeeds
 * Each run appends to `$FAKE_STATE_DIR/<job uid>.runs` and writes its pid to `<job uid>.<module>.pid`.
 * When traced (TRACEPARENT set), the separator times its stem writing in a span line.
 */
export async function writeFakePythonPackage(dir: string): Promise<void> {
  const pkg = join(dir, 'switchforge_audio');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, '__init__.py'), '');
  await writeFile(join(pkg, '_fake.py'), COMMON);
  await writeFile(join(pkg, 'analyzer.py'), ANALYZER);
  await writeFile(join(pkg, 'separator.py'), SEPARATOR);
}

const COMMON = `
import json, os, sys, time, wave

def job_uid(input_path):
    parts = os.path.abspath(input_path).split(os.sep)
    return parts[parts.index("jobs") + 1] if "jobs" in parts else os.path.basename(input_path)

def enter(module, input_path):
    state = os.environ["FAKE_STATE_DIR"]
    uid = job_uid(input_path)
    with open(os.path.join(state, uid + ".runs"), "a") as f:
        f.write(module + "\\n")
    with open(os.path.join(state, uid + "." + module + ".pid"), "w") as f:
        f.write(str(os.getpid()))
    with open(input_path, "rb") as f:
        word = f.read(64).split(b"\\n")[0].decode("utf-8", "replace").strip()
    return state, uid, word

def emit(obj):
    print(json.dumps(obj), flush=True)

def linger(seconds):
    # Like a real DSP loop: busy, reporting progress; gone if its worker died.
    parent = os.getppid()
    for i in range(int(seconds * 10)):
        if os.getppid() != parent:
            sys.exit(3)
        if i % 5 == 0:
            emit({"type": "progress", "percent": min(99, i / 10), "message": "working"})
        time.sleep(0.1)

def bad_input(code, message):
    sys.stderr.write(json.dumps({"type": "error", "code": code, "message": message}) + "\\n")
    sys.exit(2)
`;

const ANALYZER = `
import argparse
from switchforge_audio._fake import enter, emit, bad_input
p = argparse.ArgumentParser()
p.add_argument("--input", required=True)
p.add_argument("--features", default="tempo,key,loudness,spectral,onsets,energy")
a = p.parse_args()
state, uid, word = enter("analyzer", a.input)
print("librosa: some warning on stdout")
emit({"type": "progress", "percent": 50, "message": "analysing"})
if word == "CORRUPT":
    bad_input("CorruptAudio", "could not decode frame 12: invalid data")
emit({"type": "result", "duration_s": 3.5, "tempo": {"bpm": 124.0, "confidence": 0.9},
      "key": {"tonic": "A", "mode": "minor", "label": "A minor", "confidence": 0.7},
      "loudness_lufs": -9.5, "energy": 0.62, "spectral": {"centroid_hz": 1800.0, "rolloff_hz": 5200.0},
      "onset_rate": 2.1})
`;

const SEPARATOR = `
import argparse, os, time, wave
from switchforge_audio._fake import enter, emit, linger
p = argparse.ArgumentParser()
for arg in ["--input", "--output-dir", "--model", "--stems", "--shifts", "--device"]:
    p.add_argument(arg, required=True)
p.add_argument("--segment")
a = p.parse_args()
state, uid, word = enter("separator", a.input)
marker = os.path.join(state, uid + ".slow-once")
if word == "SLOW" or (word == "ONCE_SLOW" and not os.path.exists(marker)):
    open(marker, "w").close()
    linger(60)
if word == "PAUSE":
    linger(4)
stems = {}
began = time.time()
for i, stem in enumerate(["vocals", "drums", "bass", "other"]):
    path = os.path.join(os.path.abspath(a.output_dir), stem + ".wav")
    # A real WAV (0.1 s of stereo 16-bit at 44.1 kHz), different bytes for each stem.
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(bytes([i + 1, 0, 0, 0]) * 4410)
    stems[stem] = path
if os.environ.get("TRACEPARENT"):
    emit({"type": "span", "name": "separator.write", "start": began, "end": time.time(),
          "attributes": {"stems": len(stems)}})
emit({"type": "progress", "percent": 100})
emit({"type": "result", "stems": stems, "model": a.model, "device": "cpu", "sample_rate": 44100})
`;
