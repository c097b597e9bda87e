// `node --import ./record-modules.mjs ...`: appends every module URL the process resolves to the
// file named by SWITCHFORGE_RECORD_MODULES, one a line (module-graph.test.ts reads it).
import { register } from 'node:module';
import process from 'node:process';

register('./record-modules-hooks.mjs', import.meta.url, {
  data: { file: process.env.SWITCHFORGE_RECORD_MODULES },
});
