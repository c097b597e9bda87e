/**
 * What switchforge (Apache-2.0) may ship in its images: the licence policy that the licence test
 * applies to every runtime npm package and every runtime Python distribution.
 */

/** Permissive licences: compatible with distributing an Apache-2.0 operator, no conditions beyond notice. */
export const PERMISSIVE = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'CC0-1.0',
  'ISC',
  'MIT',
  'MIT-0',
  'PSF-2.0',
  'Python-2.0',
  'Unlicense',
  'Zlib',
  'LLVM-exception',
  // caniuse-lite's browser data (through @temporalio/worker's bundler): attribution only.
  'CC-BY-4.0',
]);

/**
 * Weak-copyleft and redistributable-binary licences accepted for named packages only, each with
 * why it is acceptable: shipped unmodified as separate, dynamically loaded libraries.
 */
export const ACCEPTED_EXCEPTIONS: Readonly<Record<string, string>> = {
  lameenc:
    'LGPL-3.0-or-later: demucs imports it for MP3 output; shipped unmodified as its own shared library',
  soxr: 'LGPL-2.1-or-later (libsoxr): resampling, dynamically linked, unmodified',
  certifi: 'MPL-2.0: a CA bundle file, unmodified',
  tqdm: 'MPL-2.0 AND MIT: unmodified',
  'nvidia-*':
    'NVIDIA CUDA redistributables that the PyPI torch wheel depends on; the CPU image can omit them',
};

export type Verdict = 'permissive' | 'exception' | 'refused';

/**
 * Judges an SPDX expression: `A OR B` is allowed when either side is, `A AND B` when both are,
 * `A WITH exception` by its licence. Unknown or missing licences are refused.
 */
export function spdxAllowed(expression: string): boolean {
  const tokens = expression.replace(/[()]/g, ' ').split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return false;
  // OR binds looser than AND; parentheses in the wild only group like that, so flattening is safe.
  return tokens
    .join(' ')
    .split(/ OR /)
    .some((alternative) =>
      alternative.split(/ AND /).every((term) => {
        const [licence] = term.split(/ WITH /);
        return PERMISSIVE.has(licence!.trim());
      }),
    );
}

/** Matches a package name against the exception table (`prefix-*` entries match by prefix). */
export function exceptionFor(name: string): string | undefined {
  for (const [pattern, why] of Object.entries(ACCEPTED_EXCEPTIONS)) {
    if (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name) return why;
  }
  return undefined;
}

export function verdict(name: string, expression: string | undefined): Verdict {
  if (expression !== undefined && spdxAllowed(expression)) return 'permissive';
  return exceptionFor(name) !== undefined ? 'exception' : 'refused';
}
